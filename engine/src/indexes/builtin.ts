import { vamanaCosine } from './graph/kind.js';
import { lshCosine } from './lsh/kind.js';
import { registerIndexKind } from './registry.js';
import { textBm25 } from './text/kind.js';

/* DreamDB's own index kinds, registered when the engine's verbs are loaded (every verb module imports this). */
registerIndexKind(vamanaCosine);
registerIndexKind(lshCosine);
registerIndexKind(textBm25);
