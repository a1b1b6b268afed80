// What every `evals local` task shares, whatever its kind: the fields each record of the run
// carries, the DESIGN §7 key of each (doc, r), and the loop over documents in batches that resumes
// a batch whole from the journal or computes it whole, appends it, and reports progress.
import { batchesByLength, batchesInOrder } from "../../runner/engine/length-batches.ts";
import type { KvStrategy } from "../../runner/engine/recurrent-model.ts";
import type { SampleRecord } from "./records.ts";
import { type ResultKeyParts, resultKey } from "./result-key.ts";
import type { RunJournal } from "./run-journal.ts";

export type ProgressEvent = { task: string; recurrences: number; done: number; total: number };

/** The run-wide settings and sinks a task's batches need. */
export interface LocalRunContext {
  /** `checkpointIdentity(manifest)` of the loaded checkpoint. */
  checkpoint: string;
  kv: KvStrategy;
  stateInit: "zeros" | "normal";
  seed: number;
  /** Fields every record of the run shares besides kv, state init and seed. */
  record: Pick<SampleRecord, "backend" | "dtype" | "adapter" | "runner_version">;
  /** Where finished records go as they finish, and where an interrupted run's come back from. */
  journal?: RunJournal;
  onProgress?: (event: ProgressEvent) => void;
}

/** A document as keys and records name it. */
export interface BatchDoc {
  docIndex: number;
  docId: string;
  docHash: string;
  /** sha256 of the exact prompt text (for loglikelihood documents, their requests' JSON). */
  promptHash: string;
}

export interface TaskBatches<D extends BatchDoc> {
  task: string;
  taskHash: string;
  /** Content hash of the dataset rows the documents came from. */
  datasetHash: string;
  /** Generation settings, or the loglikelihood marker, as the key records them. */
  generation: ResultKeyParts["generation"];
  docs: D[];
  recurrences: number[];
  batchSize: number;
  /** Each document's prompt length in tokens: batches then group similar lengths (less padding). */
  promptLengths?: number[];
  /**
   * Computes one batch at one r. `head(i, ms)` gives the record fields the run decides (key,
   * identity, settings, timing) for the batch's i-th document; the task adds what it computed.
   */
  compute(
    batch: D[],
    r: number,
    head: (i: number, msPerDoc: number) => RecordHead,
  ): Promise<SampleRecord[]>;
}

/** Everything of a record but what the task computed. */
export type RecordHead = Omit<
  SampleRecord,
  | "completion"
  | "prompt_tokens"
  | "generated_tokens"
  | "prompt_truncated"
  | "flops"
  | "extracted"
  | "metrics"
  | "loglikelihoods"
>;

/** Every (doc, r) of a task, batch by batch, resumed from the journal where a batch finished. */
export async function runTaskBatches<D extends BatchDoc>(
  run: LocalRunContext,
  spec: TaskBatches<D>,
): Promise<SampleRecord[]> {
  const samples: SampleRecord[] = [];
  const { docs } = spec;
  const batches = spec.promptLengths
    ? batchesByLength(spec.promptLengths, spec.batchSize)
    : batchesInOrder(docs.length, spec.batchSize);
  for (const r of spec.recurrences) {
    // Records go out in document order whatever order the batches ran in.
    const byDoc = new Array<SampleRecord>(docs.length);
    let done = 0;
    for (const indices of batches) {
      const batch = indices.map((i) => docs[i]);
      const keys = await Promise.all(
        batch.map((doc) =>
          resultKey({
            checkpoint: run.checkpoint,
            taskHash: spec.taskHash,
            datasetFiles: [spec.datasetHash],
            docHash: doc.docHash,
            promptHash: doc.promptHash,
            recurrences: r,
            generation: spec.generation,
            stateInit: run.stateInit,
            seed: run.seed,
            kv: run.kv,
            dtype: run.record.dtype,
          }),
        ),
      );
      done += batch.length;
      const progress = {
        task: spec.task,
        recurrences: r,
        done,
        total: docs.length,
      };
      // A batch is resumed whole or run whole, so its records never depend on where a run stopped.
      const resumed = keys.map((key) => run.journal?.done.get(key));
      if (resumed.every((record) => record !== undefined)) {
        for (const [i, record] of resumed.entries()) byDoc[indices[i]] = record as SampleRecord;
        run.onProgress?.(progress);
        continue;
      }
      const finished = await spec.compute(batch, r, (i, msPerDoc) => ({
        key: keys[i],
        task: spec.task,
        task_hash: spec.taskHash,
        doc_index: batch[i].docIndex,
        doc_id: batch[i].docId,
        doc_hash: batch[i].docHash,
        recurrences: r,
        prompt_hash: batch[i].promptHash,
        kv: run.kv,
        state_init: run.stateInit,
        seed: run.seed,
        ...run.record,
        ms: Math.round(msPerDoc),
      }));
      run.journal?.append(finished);
      for (const [i, record] of finished.entries()) byDoc[indices[i]] = record;
      run.onProgress?.(progress);
    }
    samples.push(...byDoc);
  }
  return samples;
}
