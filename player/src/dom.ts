/** The page's element with an id (the ids are fixed in index.html). */
export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
