import type { ObjectStore } from '@dreamdb/engine/store';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ByteCache } from './objects/byte-cache.js';

/** The origin's Prometheus metrics, in a registry of its own (several origins may share a process). */
export class OriginMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'dreamdb_http_requests_total',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'dreamdb_http_request_duration_seconds',
    help: 'Time to the response head, by route pattern',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly storeRequests = new Counter({
    name: 'dreamdb_store_requests_total',
    help: 'Requests the origin made to the object store, by operation',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  /** Expose a byte cache's counters (read when scraped). */
  watchCache(cache: ByteCache): void {
    const counters: [string, string, () => number][] = [
      ['dreamdb_cache_hits_total', 'Range requests served from the byte cache', () => cache.stats.hits],
      ['dreamdb_cache_misses_total', 'Range requests that waited for the store', () => cache.stats.misses],
      ['dreamdb_cache_prefetches_total', 'Read-ahead fetches started', () => cache.stats.prefetches],
      [
        'dreamdb_cache_prefetch_hits_total',
        'Requests served by read-ahead bytes',
        () => cache.stats.prefetchHits,
      ],
      ['dreamdb_cache_evictions_total', 'Spans dropped to stay under capacity', () => cache.stats.evictions],
    ];
    for (const [name, help, read] of counters) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          // The cache counts; a scrape copies its count (a counter has no set, so reset and add).
          this.reset();
          this.inc(read());
        },
      });
    }
    new Gauge({
      name: 'dreamdb_cache_bytes',
      help: 'Bytes held by the byte cache',
      registers: [this.registry],
      collect() {
        this.set(cache.stats.bytes);
      },
    });
    new Gauge({
      name: 'dreamdb_cache_hit_ratio',
      help: 'Byte cache hits over all range requests since start',
      registers: [this.registry],
      collect() {
        const all = cache.stats.hits + cache.stats.misses;
        this.set(all === 0 ? 0 : cache.stats.hits / all);
      },
    });
  }

  /** The store, counting each request it serves by operation. */
  countStore(store: ObjectStore): ObjectStore {
    const count = this.storeRequests;
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (
          typeof value !== 'function' ||
          !['get', 'head', 'put', 'putParts', 'delete', 'list'].includes(String(property))
        )
          return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          count.inc({ op: String(property) });
          return value.apply(target, args);
        };
      },
    });
  }
}
