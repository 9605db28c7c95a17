/** The genesis the sample is ingested with. */
export declare const GENESIS: string;
/** `dreamdb ingest` arguments for the sample made in `dir` (by make.mjs) into a space and timeline. */
export declare function ingestArgs(dir: string, space: string, timeline: string): string[];
