/**
 * `@dreamdb/engine/api`: the `/v0` API's documents as types (spec 0006 §4), for the server that builds
 * them and the player that reads them. Types only: importing it bundles nothing.
 */

export type * from '../api/v0.js';
