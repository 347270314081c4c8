/** data (work in progress). */
export {};
