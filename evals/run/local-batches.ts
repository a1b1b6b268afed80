// What every `evals local` task shares, whatever its kind: the fields each record of the run
// carries, the DESIGN §7 key of each (doc, r), and the loop over documents in batches that resumes
// a batch whole from the journal or computes it whole, appends it, and reports progress.
import { batchesByLength, batchesInOrder } from "../../runner/engine/length-batches.ts";
import type { KvStrategy } from "../../runner/engine/recurrent-model.ts";
import type { SampleRecord, ScoredField } from "./records.ts";
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
  /** `keyedBackend(manifest, backend)`: set where the checkpoint's numbers depend on the backend. */
  keyBackend?: string;
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
   * Computes one batch at each r of `recurrences` (those the journal lacks, in the run's order;
   * several at once so a task can share the prefill between them): one record list per r, in
   * that order. `head(r, i, ms)` gives the record fields the run decides (key, identity,
   * settings, timing) for the batch's i-th document at r; the task adds what it computed.
   */
  compute(
    batch: D[],
    recurrences: number[],
    head: (r: number, i: number, msPerDoc: number) => RecordHead,
  ): Promise<SampleRecord[][]>;
}

/** Everything of a record but what the task computed. */
export type RecordHead = Omit<SampleRecord, ScoredField>;

/**
 * Every (doc, r) of a task, batch by batch, every r of a batch together, resumed from the journal
 * where a batch finished at an r. Records come back per r in document order, r in the run's order.
 */
export async function runTaskBatches<D extends BatchDoc>(
  run: LocalRunContext,
  spec: TaskBatches<D>,
): Promise<SampleRecord[]> {
  const { docs, recurrences } = spec;
  const batches = spec.promptLengths
    ? batchesByLength(spec.promptLengths, spec.batchSize)
    : batchesInOrder(docs.length, spec.batchSize);
  // Records go out in document order whatever order the batches ran in.
  const byDoc = recurrences.map(() => new Array<SampleRecord>(docs.length));
  const done = recurrences.map(() => 0);
  const progress = (k: number, count: number) => {
    done[k] += count;
    run.onProgress?.({
      task: spec.task,
      recurrences: recurrences[k],
      done: done[k],
      total: docs.length,
    });
  };
  for (const indices of batches) {
    const batch = indices.map((i) => docs[i]);
    const keys = await Promise.all(
      recurrences.map((r) =>
        Promise.all(
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
              backend: run.keyBackend,
            }),
          ),
        ),
      ),
    );
    // A batch is resumed whole or run whole at each r, so its records never depend on where a
    // run stopped.
    const missing: number[] = [];
    for (const k of recurrences.keys()) {
      const resumed = keys[k].map((key) => run.journal?.done.get(key));
      if (resumed.some((record) => record === undefined)) {
        missing.push(k);
        continue;
      }
      for (const [i, record] of resumed.entries()) byDoc[k][indices[i]] = record as SampleRecord;
      progress(k, batch.length);
    }
    if (missing.length === 0) continue;
    const finished = await spec.compute(
      batch,
      missing.map((k) => recurrences[k]),
      (r, i, msPerDoc) => ({
        key: keys[recurrences.indexOf(r)][i],
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
      }),
    );
    for (const [n, k] of missing.entries()) {
      run.journal?.append(finished[n]);
      for (const [i, record] of finished[n].entries()) byDoc[k][indices[i]] = record;
      progress(k, batch.length);
    }
  }
  return byDoc.flat();
}
