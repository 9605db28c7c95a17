import { type Api, ApiError } from './api.js';
import { byId } from './dom.js';
import { trim } from './trim.js';

/** What the upload dialog needs from the page. */
export interface IngestDeps {
  readonly api: Api;
  readonly space: () => string;
  readonly ref: () => string;
  /** Show a timeline once it is published. */
  readonly open: (timeline: string) => Promise<void>;
}

/** A recording picked or made in the dialog. */
interface Source {
  readonly blob: Blob;
  readonly name: string;
  /** Seconds; from the recording's metadata, or the camera's elapsed time. */
  readonly duration: number;
  readonly height?: number;
  readonly fromCamera: boolean;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A timeline name from a file name: lower case, other characters as "-", at most 64. */
export function timelineName(file: string): string {
  const stem = file.replace(/\.[^.]*$/, '').toLowerCase();
  const name = stem
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/\.\.+/g, '.')
    .slice(0, 64);
  return name || 'upload';
}

/**
 * The "new timeline" dialog: pick a file or record from the camera, choose the part to keep, and upload
 * it into a new timeline. A cut (or a smaller picture) is made in the browser by ffmpeg.wasm; a whole
 * recording is sent as it is, straight from disk, and the server packages it.
 */
export function setupIngest(deps: IngestDeps): void {
  const dialog = byId<HTMLDialogElement>('ingest');
  const preview = byId<HTMLVideoElement>('ingest-preview');
  const start = byId<HTMLInputElement>('ingest-start');
  const end = byId<HTMLInputElement>('ingest-end');
  const nameInput = byId<HTMLInputElement>('ingest-name');
  const height = byId<HTMLSelectElement>('ingest-height');
  const go = byId<HTMLButtonElement>('ingest-go');
  const record = byId<HTMLButtonElement>('ingest-record');
  const progress = byId<HTMLProgressElement>('ingest-progress');
  let source: Source | undefined;
  let recorder: MediaRecorder | undefined;
  let starting = false;
  let picked: File | undefined;
  let busy = false;

  const say = (message: string, error = false) => {
    const el = byId('ingest-status');
    el.textContent = message;
    el.classList.toggle('error', error);
  };
  const show = (p: number | undefined) => {
    progress.hidden = p === undefined;
    if (p !== undefined) progress.value = p;
  };
  /** The preview shows a recording (an object URL, released when replaced) or the live camera. */
  const showInPreview = (what: Blob | MediaStream | undefined) => {
    if (preview.src.startsWith('blob:')) URL.revokeObjectURL(preview.src);
    preview.removeAttribute('src');
    preview.srcObject = what instanceof MediaStream ? what : null;
    if (what instanceof Blob) preview.src = URL.createObjectURL(what);
  };
  const use = (next: Source) => {
    source = next;
    showInPreview(next.blob);
    start.value = '0';
    end.value = next.duration.toFixed(2);
    end.max = start.max = next.duration.toFixed(2);
    if (!nameInput.value || nameInput.dataset.auto === '1') {
      nameInput.value = timelineName(next.name);
      nameInput.dataset.auto = '1';
    }
    go.disabled = false;
    say(`${next.name}: ${next.duration.toFixed(2)} s, ${(next.blob.size / 1e6).toFixed(1)} MB`);
  };

  byId('open-ingest').addEventListener('click', () => dialog.showModal());
  byId('ingest-close').addEventListener('click', () => dialog.close());
  // Closing the dialog mid-recording stops the camera (the recording so far is kept).
  dialog.addEventListener('close', () => recorder?.stop());
  nameInput.addEventListener('input', () => {
    nameInput.dataset.auto = '0';
  });

  byId<HTMLInputElement>('ingest-file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    // The duration and size come from the browser's own reading of the file's header.
    const probe = document.createElement('video');
    const url = URL.createObjectURL(file);
    picked = file;
    probe.preload = 'metadata';
    probe.onloadedmetadata = () => {
      URL.revokeObjectURL(url);
      if (picked !== file) return; // another file was picked meanwhile
      use({
        blob: file,
        name: file.name,
        duration: probe.duration,
        ...(probe.videoHeight && { height: probe.videoHeight }),
        fromCamera: false,
      });
    };
    probe.onerror = () => {
      URL.revokeObjectURL(url);
      if (picked === file) say(`${file.name}: this browser cannot read it as video or audio`, true);
    };
    probe.src = url;
  });

  const set = (input: HTMLInputElement) => () => {
    input.value = preview.currentTime.toFixed(2);
  };
  byId('ingest-set-start').addEventListener('click', set(start));
  byId('ingest-set-end').addEventListener('click', set(end));

  record.addEventListener('click', async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    if (starting) return; // a second click while the camera is being opened
    starting = true;
    let stream: MediaStream;
    let active: MediaRecorder;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (error) {
      starting = false;
      say(`camera: ${(error as Error).message}`, true);
      return;
    }
    const stop = () => {
      for (const track of stream.getTracks()) track.stop();
    };
    try {
      const type = ['video/webm;codecs=vp9,opus', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
      active = new MediaRecorder(stream, type ? { mimeType: type } : {});
    } catch (error) {
      stop();
      starting = false;
      say(`camera: ${(error as Error).message}`, true);
      return;
    }
    starting = false;
    recorder = active;
    const chunks: Blob[] = [];
    const began = performance.now();
    active.ondataavailable = (e) => chunks.push(e.data);
    active.onstop = () => {
      stop();
      recorder = undefined;
      record.textContent = 'Record from camera';
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
      use({
        blob: new Blob(chunks, { type: active.mimeType }),
        name: `camera-${stamp}.webm`,
        duration: (performance.now() - began) / 1000,
        fromCamera: true,
      });
    };
    showInPreview(stream);
    void preview.play();
    active.start(1000);
    record.textContent = 'Stop recording';
    say('recording…');
  });

  go.addEventListener('click', async () => {
    if (!source || busy) return;
    const name = nameInput.value.trim();
    if (!NAME.test(name) || name.includes('..')) {
      say(`timeline name "${name}": use 1-64 of a-z 0-9 . _ -, starting with a letter or digit`, true);
      return;
    }
    const from = Number(start.value);
    const to = Math.min(Number(end.value), source.duration);
    if (!(from >= 0 && to > from)) {
      say(`keep from ${start.value} s to ${end.value} s: the end must come after the start`, true);
      return;
    }
    const maxHeight = height.value ? Number(height.value) : undefined;
    const cut = from > 0.005 || to < source.duration - 0.005;
    const shrink = maxHeight !== undefined && (source.height ?? 0) > maxHeight;
    busy = true;
    go.disabled = true;
    try {
      // Asked before any work: the server refuses a name in use too, but only after the upload starts.
      const existing: string[] = await deps.api
        .timelines(deps.space(), deps.ref())
        .catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return []; // an empty space
          throw error;
        });
      if (existing.includes(name)) {
        say(`timeline ${name} already exists at ${deps.ref()}: choose another name`, true);
        return;
      }
      let media = source.blob;
      let uploadName = source.name;
      if (cut || shrink) {
        say('loading ffmpeg.wasm…');
        show(0);
        media = await trim(source.blob, source.name, {
          start: from,
          end: to,
          ...(maxHeight !== undefined && { maxHeight }),
          onProgress: (p) => {
            show(p);
            say(`cutting ${from.toFixed(2)}–${to.toFixed(2)} s in the browser: ${Math.round(p * 100)}%`);
          },
        });
        uploadName = `${timelineName(source.name)}-cut.mp4`;
      }
      show(0);
      const doc = await deps.api.ingest(deps.space(), name, media, {
        ref: deps.ref(),
        name: uploadName,
        // A camera recording (variable frame rate WebM) is re-encoded by the server's ffmpeg, not ours.
        transcode: source.fromCamera && !cut && !shrink,
        onUpload: (p) => {
          show(p);
          say(p < 1 ? `uploading: ${Math.round(p * 100)}%` : 'uploaded; the server is receiving it…');
        },
        onStage: (line) => {
          if (line.stage === 'packaging' && line.seconds !== undefined) {
            show(line.duration ? Math.min(1, line.seconds / line.duration) : undefined);
            say(
              `packaging on the server: ${line.seconds.toFixed(1)}${line.duration ? ` of ${line.duration.toFixed(1)}` : ''} s`,
            );
          } else if (line.stage === 'deriving') say(`making the ${line.track} track…`);
          else if (line.stage === 'publishing') say('publishing…');
        },
      });
      show(undefined);
      say(
        `${doc.timeline}: ${doc.tracks.map((t) => `${t.name} (${t.fragments} fragments)`).join(', ')}; ${doc.derived.map((d) => d.name).join(', ')}`,
      );
      dialog.close();
      await deps.open(doc.timeline);
    } catch (error) {
      show(undefined);
      say(error instanceof ApiError ? error.message : (error as Error).message, true);
    } finally {
      busy = false;
      go.disabled = false;
    }
  });
}
