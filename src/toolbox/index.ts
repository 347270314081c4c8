/** toolbox (work in progress). */
export {};
