/** 3.5 s written in every form a time argument takes (ticks, hex, each unit): the CLI and API tests read them. */
export const FORMS_OF_3_5_S = [
  '3.5s',
  '3500ms',
  '3500000us',
  '3500000µs',
  '3500000000ns',
  '3500000000',
  '00000000d09dc300',
] as const;
