/** ppl (work in progress). */
export {};
