import { decodeCanonical, encodeCanonical, fromHex, fromJsonForm, toHex, toJsonForm } from '@dreamdb/engine';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { argOrStdin, readStdin } from '../io.js';

const JSON_FORM_HELP = `
JSON form: plain JSON, plus {"$bytes": "hex"}, {"$tag": 65524, "$value": v}, {"$bigint": "123"},
{"$float": "NaN"|"Infinity"|"-Infinity"} and {"$map": [[key, value], ...]} for non-text keys.`;

/** Replace bigints (which JSON.stringify refuses) before printing. */
function printJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(toJsonForm(value), null, pretty ? 2 : undefined);
}

/** `dreamdb cbor encode|decode`: deterministic CBOR from and to the JSON form. */
export function registerCbor(program: Command): void {
  const cbor = program
    .command('cbor')
    .description('encode and decode DreamDB deterministic CBOR (spec 0009 §3)');
  cbor
    .command('encode')
    .description('JSON (with tagged values) in, deterministic CBOR hex out')
    .argument('[json]', 'the JSON text; read from stdin when missing or -')
    .option('--binary', 'write raw CBOR bytes instead of hex')
    .addHelpText('after', JSON_FORM_HELP)
    .action(async (json: string | undefined, opts: { binary?: boolean }) => {
      const text = await argOrStdin(json);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`input is not JSON: ${(error as Error).message}`);
      }
      const bytes = encodeCanonical(fromJsonForm(parsed));
      if (opts.binary) process.stdout.write(bytes);
      else process.stdout.write(`${toHex(bytes)}\n`);
    });
  cbor
    .command('decode')
    .description('deterministic CBOR hex in, JSON out; non-canonical or malformed input is refused')
    .argument('[hex]', 'the CBOR as hex; read from stdin when missing or -')
    .option('--binary', 'read raw CBOR bytes from stdin instead of hex')
    .option('--pretty', 'indent the JSON')
    .addHelpText('after', JSON_FORM_HELP)
    .action(async (hex: string | undefined, opts: { binary?: boolean; pretty?: boolean }) => {
      const bytes = opts.binary
        ? new Uint8Array(await readStdin())
        : fromHex((await argOrStdin(hex)).trim(), 'input');
      process.stdout.write(`${printJson(decodeCanonical(bytes), opts.pretty ?? false)}\n`);
    });
}
