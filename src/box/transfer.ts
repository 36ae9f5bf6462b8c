/** Progress of a byte transfer (a box download or a volume upload), as reported to whoever shows it. */

export interface TransferProgress {
  /** Which way the bytes go. */
  direction: "download" | "upload";
  /** What moves, for people: a URL, or `box-debian` (disk 2 of 2). */
  label: string;
  /** Bytes done so far, counted from the start of the file (a resumed download starts above 0). */
  done: number;
  /** Bytes in all, when known. */
  total?: number;
  /** The transfer is over (completed or failed); no further report follows for it. */
  finished?: boolean;
  /** With finished: whether it completed. */
  ok?: boolean;
}

/** Receives transfer reports; called often (every chunk or poll), so it must be cheap. */
export type TransferListener = (progress: TransferProgress) => void;
