/** layers (work in progress). */
export {};
