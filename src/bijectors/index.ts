/** bijectors (work in progress). */
export {};
