import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { parseTimeArg } from '@dreamdb/engine';
import {
  attenuateToken,
  type Caveats,
  combine,
  decodeToken,
  issueToken,
  keyId,
  newIssuerKey,
  RIGHTS,
  type Right,
  revocationId,
  revoke,
  sealToken,
  tokenCaveats,
  verifyToken,
} from '@dreamdb/engine/access';
import { openStore } from '@dreamdb/engine/node/open';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { publicKeyText, readIssuerKeys, readSecretKey, secretKeyText } from '../issuer-keys.js';

interface CaveatOptions {
  rights?: string;
  spaces?: string;
  refs?: string;
  expires?: string;
  notBefore?: string;
  timeline?: string;
  from?: string;
  to?: string;
  note?: string;
}

const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** A time as seconds since the epoch: RFC 3339, or a duration from now (7d, 12h, 30min, 90s). */
function when(text: string, name: string, nowSeconds = Math.floor(Date.now() / 1000)): number {
  const duration = /^(\d+(?:\.\d+)?)(d|h|min|s)$/.exec(text.trim());
  if (duration) {
    const unit = { d: 86_400, h: 3600, min: 60, s: 1 }[duration[2] as 'd' | 'h' | 'min' | 's'];
    return nowSeconds + Math.round(Number(duration[1]) * unit);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new UsageError(`${name} ${text}: give a duration from now (7d, 12h, 30min) or an RFC 3339 time`);
  return Math.floor(ms / 1000);
}

/** The caveats the options state. */
function caveatsOf(opts: CaveatOptions): Caveats {
  const rights = list(opts.rights);
  for (const r of rights ?? [])
    if (!RIGHTS.includes(r as Right))
      throw new UsageError(`--rights: ${r} is not one of ${RIGHTS.join(', ')}`);
  if ((opts.from !== undefined || opts.to !== undefined) && opts.timeline === undefined)
    throw new UsageError('--from and --to need --timeline');
  const window =
    opts.timeline === undefined
      ? undefined
      : {
          timeline: opts.timeline,
          from: opts.from === undefined ? 0n : parseTimeArg(opts.from, { name: '--from', bare: 'seconds' }),
          to:
            opts.to === undefined
              ? (1n << 64n) - 1n
              : parseTimeArg(opts.to, { name: '--to', bare: 'seconds' }),
        };
  return {
    ...(rights && { rights: rights as Right[] }),
    ...(opts.spaces !== undefined && { spaces: list(opts.spaces)! }),
    ...(opts.refs !== undefined && { refs: list(opts.refs)! }),
    ...(opts.expires !== undefined && { exp: when(opts.expires, '--expires') }),
    ...(opts.notBefore !== undefined && { nbf: when(opts.notBefore, '--not-before') }),
    ...(window && { window }),
    ...(opts.note !== undefined && { note: opts.note }),
  };
}

/** A token from an argument, or from standard input when it is "-". */
const tokenArg = (text: string) => (text === '-' ? readFileSync(0, 'utf8') : text).trim();

function caveatOptions(command: Command): Command {
  return command
    .option('--rights <list>', `rights: ${RIGHTS.join(', ')} (comma separated)`)
    .option('--spaces <list>', 'space names or prefixes ending in * (comma separated)')
    .option('--refs <list>', 'ref names or prefixes ending in *, e.g. main,heads/review-*')
    .option('--expires <when>', 'a duration from now (7d, 12h, 30min) or an RFC 3339 time')
    .option('--not-before <when>', 'valid from (same forms)')
    .option('--timeline <name>', 'grant one timeline only ...')
    .option('--from <time>', '... from this time (ticks, or seconds with a unit: 60s)')
    .option('--to <time>', '... to this time')
    .option('--note <text>', 'who or why, for people reading the token');
}

/** `dreamdb token keygen | issue | attenuate | inspect | revoke` (spec 0018 §2). */
export function registerToken(program: Command): void {
  const token = program.command('token').description('capability tokens: issue, attenuate, inspect, revoke');
  token
    .command('keygen')
    .description('make an issuer key pair: the secret key to a file (mode 0600), the public key printed')
    .requiredOption('--out <file>', 'where to write the secret key')
    .action((opts: { out: string }) => {
      const key = newIssuerKey();
      writeFileSync(opts.out, `${secretKeyText(key)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(opts.out, 0o600);
      process.stdout.write(`${publicKeyText(key.publicKey)}\n`);
      process.stderr.write(
        `key id ${keyId(key.publicKey)}; origins trust it with --issuer-key ${publicKeyText(key.publicKey)}\n`,
      );
    });
  caveatOptions(
    token
      .command('issue')
      .description('sign a new token with an issuer secret key')
      .requiredOption('--key <file>', 'the issuer secret key (dreamdb token keygen)')
      .option('--tenant <name>', 'the tenant whose spaces it reaches', 'default'),
  )
    .option('--seal', 'no holder can attenuate it')
    .action((opts: CaveatOptions & { key: string; tenant: string; seal?: boolean }) => {
      const caveats = caveatsOf(opts);
      const issued = issueToken(readSecretKey(opts.key), {
        rights: ['read'],
        spaces: ['*'],
        exp: when('1d', '--expires'),
        ...caveats,
        tenant: opts.tenant,
      });
      process.stdout.write(`${opts.seal ? sealToken(issued) : issued}\n`);
    });
  caveatOptions(
    token
      .command('attenuate')
      .description('derive a narrower token from one you hold (no issuer needed)')
      .argument('<token>', 'the token ("-": read it from standard input)'),
  )
    .option('--seal', 'no holder can attenuate it further')
    .action((text: string, opts: CaveatOptions & { seal?: boolean }) => {
      const derived = attenuateToken(tokenArg(text), caveatsOf(opts));
      process.stdout.write(`${opts.seal ? sealToken(derived) : derived}\n`);
    });
  token
    .command('inspect')
    .description('print what a token grants, block by block, and the ids that revoke it')
    .argument('<token>', 'the token ("-": read it from standard input)')
    .option('--issuer-key <key...>', 'verify it against these issuer public keys too')
    .action((text: string, opts: { issuerKey?: string[] }) => {
      const t = tokenArg(text);
      const decoded = decodeToken(t);
      const blocks = tokenCaveats(decoded);
      const effective = combine(blocks);
      const verified = opts.issuerKey ? verifyToken(t, readIssuerKeys(opts.issuerKey, undefined)) : undefined;
      const json = JSON.stringify(
        {
          issuer: decoded.issuer,
          verified: verified !== undefined,
          sealed: decoded.proof.length === 64,
          grant: effective,
          blocks,
          revocationIds: decoded.blocks.map(revocationId),
        },
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        2,
      );
      process.stdout.write(`${json}\n`);
    });
  token
    .command('revoke')
    .description("revoke a token (and every token derived from it) in its tenant's revocation list")
    .argument('<token>', 'the token, or a revocation id (32 hex digits); "-": standard input')
    .option('--tenant <name>', "the tenant (default: the token's)")
    .option('--family', "revoke the token's first block: every token of its issue, however derived")
    .option(
      '--store <spec>',
      'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    )
    .action(async (text: string, opts: { tenant?: string; family?: boolean; store?: string }) => {
      const t = tokenArg(text);
      let id: string;
      let tenant = opts.tenant;
      if (/^[0-9a-f]{32}$/.test(t)) {
        id = t;
        if (!tenant) throw new UsageError('revoking by id needs --tenant');
      } else {
        const decoded = decodeToken(t);
        tenant ??= tokenCaveats(decoded)[0]!.tenant!;
        id = revocationId(opts.family ? decoded.blocks[0]! : decoded.blocks.at(-1)!);
      }
      const opened = await openStore(opts.store);
      try {
        const count = await revoke(opened.store, tenant, [id]);
        process.stdout.write(
          `revoked ${id} for tenant ${tenant} (${count} revoked ids); origins see it within 10 s\n`,
        );
      } finally {
        await opened.close();
      }
    });
}
