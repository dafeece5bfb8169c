// Parts of the command line's JSON documents that more than one side writes or reads: the model block of
// `inspect` and `attribute`, and the savings an attribution finds (the engine computes them, the CLI writes
// them, the panel's Attribute Answer reads them back).

export interface ModelJson {
  readonly id: string;
  readonly layers: number;
  readonly heads: number;
  readonly maxTokens: number;
  readonly provider: string;
  readonly fallbackReason?: string;
}

/** The sections an answer does not depend on, and what leaving them all out costs and changes. */
export interface Savings {
  readonly sections: readonly number[];
  readonly tokens: number;
  readonly attentionFlopsShare: number;
  /** Measured: the answer's log-probability without all these sections minus with them. */
  readonly logProbDelta: number;
}
