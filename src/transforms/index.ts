/** transforms (work in progress). */
export {};
