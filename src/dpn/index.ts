/** dpn (work in progress). */
export {};
