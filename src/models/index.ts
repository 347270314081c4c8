/** models (work in progress). */
export {};
