// Drives the three graphs of a checkpoint for one forward step (prefill or decode): prelude once,
// block r times, coda once, with the KV caches of every layer carried between steps. The same code
// runs on onnxruntime-node and onnxruntime-web: the `ort` module is passed in.
import type * as Ort from "onnxruntime-common";
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";

export type OrtModule = Pick<typeof Ort, "InferenceSession" | "Tensor">;
export type KvStrategy = "full" | "shared";

export interface GraphSessions {
  prelude: Ort.InferenceSession;
  block: Ort.InferenceSession | null;
  coda: Ort.InferenceSession;
}

/** Key/value tensors of every layer, as the graphs name them. */
type LayerCache = { key: Ort.Tensor; value: Ort.Tensor };

/**
 * KV caches for one batch. `full`: one cache per (iteration, block layer) — exact, memory grows
 * with r. `shared`: one cache per block layer, overwritten by every iteration — approximate.
 */
export class KvCache {
  readonly prelude: LayerCache[];
  readonly block: LayerCache[][]; // [iteration or 0][layer]
  readonly coda: LayerCache[];
  length = 0;
  /**
   * Null: each step's presents replace the tensors (a new, longer cache per layer). A number:
   * every layer is one buffer of this many slots that one-token steps write in place (`reserveDecode`).
   */
  capacity: number | null = null;
  /** Tensors another cache owns (a fork's parent): read, never freed through this cache. */
  readonly borrowed = new Set<Ort.Tensor>();

  constructor(
    readonly strategy: KvStrategy,
    prelude: LayerCache[],
    block: LayerCache[][],
    coda: LayerCache[],
  ) {
    this.prelude = prelude;
    this.block = block;
    this.coda = coda;
  }

  /** Every layer's tensors, in a fixed order. */
  layers(): LayerCache[] {
    return [...this.prelude, ...this.block.flat(), ...this.coda];
  }

  /**
   * A cache that continues from this one without copying it: steps on the fork read these tensors
   * and write their own, so one prefilled context serves several continuations.
   */
  fork(): KvCache {
    const copy = (layers: LayerCache[]) => layers.map((layer) => ({ ...layer }));
    const fork = new KvCache(
      this.strategy,
      copy(this.prelude),
      this.block.map(copy),
      copy(this.coda),
    );
    fork.length = this.length;
    for (const layer of this.layers()) fork.borrowed.add(layer.key).add(layer.value);
    for (const tensor of this.borrowed) fork.borrowed.add(tensor);
    return fork;
  }
}

/** One r of a prefill sweep: the logits and cache a prefill at `recurrences` alone gives. */
export interface SweepRun {
  recurrences: number;
  logits: Ort.Tensor;
  cache: KvCache;
}

export interface SweepPrefill {
  /** One per r, ascending. */
  runs: SweepRun[];
  /** Frees the prelude and block tensors the runs share (after every run's cache is released). */
  release(): void;
}

/** Called with each state and the logits; throws to stop on NaN/Inf (iteration null: not the block). */
export type FiniteCheck = (graph: string, data: Float32Array, iteration: number | null) => void;

export interface StepInputs {
  batch: number;
  /** New tokens this step, [batch, seq] row-major. */
  inputIds: BigInt64Array;
  /** Mask over cache + new tokens, [batch, past + seq]. */
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  /** s_0 for the new positions, [batch, seq, h]; zeros when absent. */
  initialState?: Float32Array;
}

/** Element type of the KV caches: float32, or float16 for an fp16-compute graph variant. */
export type KvType = "float32" | "float16";

/** The KV element type of a checkpoint's default graphs (null) or of one of its variants. */
export function kvTypeOf(manifest: Manifest, variant: GraphVariantName | null): KvType {
  return variant ? (manifest.variants?.[variant]?.kv_dtype ?? "float32") : "float32";
}

/** KV slots an in-place decode reserves beyond the cache at first (`reserveDecode`). */
const DECODE_HEADROOM = 256;

/**
 * Copies KV tensors that live in device memory (onnxruntime-web's WebGPU buffers), so caches there
 * can be reserved, grown and narrowed to fewer rows as CPU caches are.
 */
export interface DeviceKvCopier {
  /**
   * A new device tensor [rows.length, heads, slots, dim] of `tensor`'s type whose row i holds the
   * first `used` positions of `tensor`'s row rows[i] (every head); later positions are unspecified.
   */
  copy(tensor: Ort.Tensor, rows: readonly number[], slots: number, used: number): Ort.Tensor;
}

export interface RecurrentModelOptions {
  /**
   * The backend runs a graph on the caller's buffers, so one tensor bound as both past and present
   * is one buffer that GroupQueryAttention writes the new position into. True for onnxruntime-node
   * (CPU memory) and for onnxruntime-web's WebGPU EP with caches in GPU buffers (`deviceKv`): it
   * registers a GPU buffer fed and fetched in one run once, so input and output share it.
   * onnxruntime-web's WASM backend copies every CPU input into its heap and every output out of
   * it, so there the kernel would see two buffers and read a full-size past as real keys.
   */
  bindsOutputsInPlace?: boolean;
  /** Copies caches that live on the device; without it such caches neither narrow nor reserve. */
  deviceKv?: DeviceKvCopier;
  /** Slots `reserveDecode` reserves beyond the cache at first (default 256); overruns double. */
  decodeHeadroom?: number;
}

export class RecurrentModel {
  /** One-token steps write the KV cache in place (`reserveDecode`); see RecurrentModelOptions. */
  readonly decodesInPlace: boolean;
  private readonly deviceKv: DeviceKvCopier | null;
  private readonly decodeHeadroom: number;

  constructor(
    private readonly ort: OrtModule,
    readonly manifest: Manifest,
    readonly sessions: GraphSessions,
    readonly kvType: KvType = "float32",
    options: RecurrentModelOptions = {},
  ) {
    this.decodesInPlace =
      options.bindsOutputsInPlace === true && manifest.decode_attention === "GroupQueryAttention";
    this.deviceKv = options.deviceKv ?? null;
    this.decodeHeadroom = options.decodeHeadroom ?? DECODE_HEADROOM;
    if (!Number.isInteger(this.decodeHeadroom) || this.decodeHeadroom < 0) {
      throw new RangeError(
        `decodeHeadroom must be a whole number of KV slots (0 or more), got ${options.decodeHeadroom}`,
      );
    }
  }

  get hiddenSize(): number {
    return this.manifest.architecture.hidden_size;
  }

  get isRecurrent(): boolean {
    return this.manifest.layers.block.length > 0;
  }

  /** Empty caches for a batch that will run `recurrences` iterations per token. */
  newCache(batch: number, strategy: KvStrategy, recurrences: number): KvCache {
    const { layers } = this.manifest;
    const empty = (n: number) => Array.from({ length: n }, () => this.emptyLayer(batch));
    const copies = this.isRecurrent ? (strategy === "full" ? recurrences : 1) : 0;
    return new KvCache(
      strategy,
      empty(layers.prelude.length),
      Array.from({ length: copies }, () => empty(layers.block.length)),
      empty(layers.coda.length),
    );
  }

  /**
   * One step: returns logits [batch, keep or seq, vocab] and advances `cache`.
   * `keepLogits` 0 keeps every position; 1 keeps only the last (decoding).
   */
  async step(
    inputs: StepInputs,
    recurrences: number,
    cache: KvCache,
    keepLogits: number,
    check?: FiniteCheck,
  ): Promise<Ort.Tensor> {
    if (cache.capacity !== null) this.makeRoom(cache, inputs);
    const common = this.commonFeeds(inputs);
    const e = await this.runPrelude(inputs, common, cache);
    let state = e;
    if (this.isRecurrent) {
      state = await this.iterate(inputs, common, e, recurrences, cache, check);
      release(e);
    }
    const logits = await this.runCoda(common, state, cache, keepLogits, check);
    release(state);
    return logits;
  }

  /**
   * The prefill of every r in `recurrences` (ascending, distinct) from one pass at the largest:
   * with the same s_0, iteration i's state and caches do not depend on r, so the state is read
   * after iterations r_1, r_2, ... and the coda runs on each. Each r gets the logits and the cache
   * a separate prefill at that r would leave (same tensors: `full` shares iterations 1..r, `shared`
   * the cache as iteration r left it), ready to decode on its own. Prelude and block tensors are
   * shared between the r's: every returned cache borrows them, and `release()` frees them.
   */
  async prefillSweep(
    inputs: StepInputs,
    recurrences: readonly number[],
    strategy: KvStrategy,
    keepLogits: number,
    check?: FiniteCheck,
  ): Promise<SweepPrefill> {
    if (
      recurrences.length === 0 ||
      recurrences.some(
        (r, i) => !Number.isInteger(r) || r < 1 || (i > 0 && r <= recurrences[i - 1]),
      )
    ) {
      throw new RangeError(
        `a prefill sweep needs ascending distinct positive recurrences, got ${recurrences.join(",")}`,
      );
    }
    const rMax = recurrences[recurrences.length - 1];
    if (recurrences.length === 1) {
      // One r is a plain prefill: nothing is shared, so its cache owns every tensor.
      const cache = this.newCache(inputs.batch, strategy, rMax);
      const logits = await this.step(inputs, rMax, cache, keepLogits, check);
      return { runs: [{ recurrences: rMax, logits, cache }], release: () => {} };
    }
    const main = this.newCache(inputs.batch, strategy, rMax);
    const common = this.commonFeeds(inputs);
    const e = await this.runPrelude(inputs, common, main);
    const shared = new Set<Ort.Tensor>();
    for (const layer of main.prelude) shared.add(layer.key).add(layer.value);
    const runs: SweepRun[] = [];
    // The coda of one r on the state after its last iteration, with a cache of its own.
    const finish = async (r: number, state: Ort.Tensor, block: LayerCache[][]) => {
      const cache = new KvCache(
        strategy,
        main.prelude.map((layer) => ({ ...layer })),
        block.map((layers) => layers.map((layer) => ({ ...layer }))),
        this.emptyLayers(inputs.batch, this.manifest.layers.coda.length),
      );
      for (const layers of block) for (const l of layers) shared.add(l.key).add(l.value);
      const logits = await this.runCoda(common, state, cache, keepLogits, check);
      runs.push({ recurrences: r, logits, cache });
    };
    if (!this.isRecurrent) {
      for (const r of recurrences) await finish(r, e, []);
    } else {
      const snapshots = new Set(recurrences.slice(0, -1));
      const last = await this.iterate(inputs, common, e, rMax, main, check, async (i, state) => {
        if (!snapshots.has(i + 1)) return;
        // `full` keeps iteration i's caches untouched from here on; `shared` overwrites its one
        // cache, so the tensors iteration i left are taken now (the loop keeps them alive).
        await finish(
          i + 1,
          state,
          strategy === "full" ? main.block.slice(0, i + 1) : [main.block[0]],
        );
      });
      await finish(rMax, last, strategy === "full" ? main.block : [main.block[0]]);
      release(last);
    }
    release(e);
    for (const run of runs) for (const tensor of shared) run.cache.borrowed.add(tensor);
    return {
      runs,
      release: () => {
        for (const tensor of shared) release(tensor);
      },
    };
  }

  /**
   * One more step of a `full` sweep: `caches` (one per r of `recurrences`, ascending) are those
   * prefillSweep or an earlier sweep step left, every smaller r holding the largest r's own prelude
   * and first block caches. The step runs once at the largest r, the coda of each smaller r on the
   * state after its last iteration; every cache then holds what a step at its r alone leaves.
   * Returns the logits per r. Release every cache of a sweep together: they share tensors.
   */
  async stepSweep(
    inputs: StepInputs,
    recurrences: readonly number[],
    caches: readonly KvCache[],
    keepLogits: number,
    check?: FiniteCheck,
  ): Promise<Ort.Tensor[]> {
    if (caches.length === 1) {
      return [await this.step(inputs, recurrences[0], caches[0], keepLogits, check)];
    }
    const main = caches[caches.length - 1];
    const rMax = recurrences[recurrences.length - 1];
    const sharing = caches.every(
      (cache, k) =>
        cache.strategy === "full" &&
        cache.block.length === (this.isRecurrent ? recurrences[k] : 0) &&
        cache.prelude.every((l, j) => sameLayer(l, main.prelude[j])) &&
        cache.block.every((layers, i) => layers.every((l, j) => sameLayer(l, main.block[i][j]))),
    );
    if (!sharing) {
      throw new RangeError("a sweep step needs the full KV caches of one sweep, ascending in r");
    }
    const common = this.commonFeeds(inputs);
    const e = await this.runPrelude(inputs, common, main);
    const logits: Ort.Tensor[] = [];
    if (!this.isRecurrent) {
      for (const cache of caches)
        logits.push(await this.runCoda(common, e, cache, keepLogits, check));
    } else {
      const at = new Map(recurrences.slice(0, -1).map((r, k) => [r, k]));
      const last = await this.iterate(inputs, common, e, rMax, main, check, async (i, state) => {
        const k = at.get(i + 1);
        if (k !== undefined)
          logits[k] = await this.runCoda(common, state, caches[k], keepLogits, check);
      });
      logits.push(await this.runCoda(common, last, main, keepLogits, check));
      release(last);
    }
    release(e);
    // The smaller r's read the largest r's new prelude and block caches, as after prefillSweep.
    for (const cache of caches.slice(0, -1)) {
      const borrow = (layer: LayerCache) => {
        cache.borrowed.add(layer.key).add(layer.value);
        return { ...layer };
      };
      main.prelude.forEach((layer, j) => {
        cache.prelude[j] = borrow(layer);
      });
      cache.block.forEach((layers, i) => {
        layers.forEach((_, j) => {
          layers[j] = borrow(main.block[i][j]);
        });
      });
    }
    return logits;
  }

  private commonFeeds(inputs: StepInputs): Record<string, Ort.Tensor> {
    const { Tensor } = this.ort;
    const seq = inputs.inputIds.length / inputs.batch;
    const total = inputs.attentionMask.length / inputs.batch;
    return {
      attention_mask: new Tensor("int64", inputs.attentionMask, [inputs.batch, total]),
      position_ids: new Tensor("int64", inputs.positionIds, [inputs.batch, seq]),
    };
  }

  /** The prelude over the new tokens: returns e and advances the prelude caches. */
  private async runPrelude(
    inputs: StepInputs,
    common: Record<string, Ort.Tensor>,
    cache: KvCache,
  ): Promise<Ort.Tensor> {
    const seq = inputs.inputIds.length / inputs.batch;
    const prelude = await this.run(
      this.sessions.prelude,
      { ...common, input_ids: new this.ort.Tensor("int64", inputs.inputIds, [inputs.batch, seq]) },
      cache,
      cache.prelude,
    );
    return prelude.e;
  }

  /**
   * The block `recurrences` times from s_0; returns the last state. `after(i, state)` sees the
   * state after iteration i (0-based) before the next iteration consumes it.
   */
  private async iterate(
    inputs: StepInputs,
    common: Record<string, Ort.Tensor>,
    e: Ort.Tensor,
    recurrences: number,
    cache: KvCache,
    check?: FiniteCheck,
    after?: (i: number, state: Ort.Tensor) => Promise<void>,
  ): Promise<Ort.Tensor> {
    const seq = inputs.inputIds.length / inputs.batch;
    const h = this.hiddenSize;
    let state: Ort.Tensor = new this.ort.Tensor(
      "float32",
      inputs.initialState ?? new Float32Array(inputs.batch * seq * h),
      [inputs.batch, seq, h],
    );
    // Shared: every iteration of this step reads the cache as the previous token left it and
    // overwrites it, so the last iteration's keys/values are what later tokens see.
    const sharedPast =
      cache.strategy === "shared" ? cache.block[0].map((layer) => ({ ...layer })) : null;
    const past = sharedPast?.flatMap((layer) => [layer.key, layer.value]) ?? [];
    const keep = new Set([...past, ...cache.borrowed]);
    for (let i = 0; i < recurrences; i++) {
      const layers = cache.strategy === "full" ? cache.block[i] : cache.block[0];
      const block = await this.run(
        this.sessions.block!,
        { ...common, e, state },
        cache,
        layers,
        keep,
        sharedPast ?? layers,
      );
      release(state);
      state = block.state_out;
      if (state.location === "cpu") check?.("block.onnx", state.data as Float32Array, i);
      if (after) {
        await after(i, state);
        // A sweep's snapshot of a `shared` cache must outlive the next iteration's overwrite.
        if (cache.strategy === "shared") for (const l of layers) keep.add(l.key).add(l.value);
      }
    }
    for (const tensor of past) if (!cache.borrowed.has(tensor)) release(tensor);
    return state;
  }

  /** The coda on `state`: returns the logits, advances the coda caches and the cache length. */
  private async runCoda(
    common: Record<string, Ort.Tensor>,
    state: Ort.Tensor,
    cache: KvCache,
    keepLogits: number,
    check?: FiniteCheck,
  ): Promise<Ort.Tensor> {
    const coda = await this.run(
      this.sessions.coda,
      {
        ...common,
        state,
        num_logits_to_keep: new this.ort.Tensor("int64", BigInt64Array.of(BigInt(keepLogits)), []),
      },
      cache,
      cache.coda,
    );
    check?.("coda.onnx", coda.logits.data as Float32Array, null);
    cache.length = common.attention_mask.dims[1];
    return coda.logits;
  }

  /**
   * The cache of a smaller batch holding only `rows` (batch indices, in the new order), so rows
   * that finished stop costing graph time. Null when the cache lives on a device this model cannot
   * copy on (no `deviceKv`); the caller then keeps the whole batch running.
   */
  selectRows(cache: KvCache, rows: readonly number[]): KvCache | null {
    if (!this.canCopy(cache)) return null;
    return this.mapped(
      cache,
      (tensor) => {
        const slots = tensor.dims[2];
        return this.copyRows(tensor, rows, slots, cache.capacity === null ? slots : cache.length);
      },
      cache.capacity,
    );
  }

  /**
   * A copy of `cache` whose layers are buffers with room for `slots` positions (at first at most
   * `decodeHeadroom` more than it holds), for decoding one token per step in place: no step then
   * allocates or copies a layer's cache, except the rare one that doubles the buffers. Null where
   * the backend or the graphs cannot (`decodesInPlace`) or the cache lives on a device this model
   * cannot copy on; the caller then keeps `cache`. The copy owns its buffers (nothing borrowed),
   * so the tensors a sweep's r share or a fork reads are never written through.
   */
  reserveDecode(cache: KvCache, slots: number): KvCache | null {
    if (!this.decodesInPlace || !this.canCopy(cache)) return null;
    // One buffer per layer means one memory: a CPU layer among GPU ones would be bound as two.
    const where = new Set(cache.layers().flatMap((l) => [l.key.location, l.value.location]));
    if (where.size !== 1) return null;
    // Most generations stop early: reserve a first stretch and let overruns double the buffers,
    // so memory stays within 2× of what the tokens need.
    const first = Math.min(Math.max(slots, cache.length), cache.length + this.decodeHeadroom);
    return this.resized(cache, first);
  }

  /** Every layer is in CPU memory, or on a device whose buffers `deviceKv` copies. */
  private canCopy(cache: KvCache): boolean {
    return cache
      .layers()
      .flatMap((l) => [l.key, l.value])
      .every((t) => t.location === "cpu" || (t.location === "gpu-buffer" && this.deviceKv));
  }

  /** Checks an in-place step and grows the buffers (one copy) when it would overrun them. */
  private makeRoom(cache: KvCache, inputs: StepInputs): void {
    const seq = inputs.inputIds.length / inputs.batch;
    if (seq !== 1) {
      throw new RangeError(`an in-place KV cache takes one token per step, got ${seq}`);
    }
    const total = inputs.attentionMask.length / inputs.batch;
    if (total <= cache.capacity!) return;
    const grown = this.resized(cache, Math.max(total, 2 * cache.capacity!));
    const own = (list: LayerCache[], from: LayerCache[]) => {
      for (const [i, layer] of list.entries()) {
        if (!cache.borrowed.has(layer.key)) release(layer.key);
        if (!cache.borrowed.has(layer.value)) release(layer.value);
        Object.assign(layer, from[i]);
      }
    };
    own(cache.prelude, grown.prelude);
    for (const [i, layers] of cache.block.entries()) own(layers, grown.block[i]);
    own(cache.coda, grown.coda);
    cache.borrowed.clear();
    cache.capacity = grown.capacity;
  }

  /** `cache` copied into buffers of `slots` positions (its `length` of them filled). */
  private resized(cache: KvCache, slots: number): KvCache {
    const all = (tensor: Ort.Tensor) => Array.from({ length: tensor.dims[0] }, (_, b) => b);
    return this.mapped(
      cache,
      (tensor) => this.copyRows(tensor, all(tensor), slots, cache.length),
      slots,
    );
  }

  /**
   * A tensor [rows.length, heads, slots, dim] whose row i holds the first `used` positions of
   * `tensor`'s row rows[i]: on the device where `tensor` lives there, else in CPU memory.
   */
  private copyRows(
    tensor: Ort.Tensor,
    rows: readonly number[],
    slots: number,
    used: number,
  ): Ort.Tensor {
    if (tensor.location === "gpu-buffer") return this.deviceKv!.copy(tensor, rows, slots, used);
    const [, heads, from, headDim] = tensor.dims;
    const data = tensor.data as Float32Array | Uint16Array;
    const out = new (data.constructor as Float32ArrayConstructor)(
      rows.length * heads * slots * headDim,
    );
    for (const [i, row] of rows.entries()) {
      for (let h = 0; h < heads; h++) {
        const start = (row * heads + h) * from * headDim;
        out.set(data.subarray(start, start + used * headDim), (i * heads + h) * slots * headDim);
      }
    }
    return new this.ort.Tensor(tensor.type as "float32", out, [rows.length, heads, slots, headDim]);
  }

  /** A cache of the same strategy and length whose every layer tensor is `map` of `cache`'s. */
  private mapped(
    cache: KvCache,
    map: (tensor: Ort.Tensor) => Ort.Tensor,
    capacity: number | null,
  ): KvCache {
    const layers = (list: LayerCache[]) =>
      list.map((layer) => ({ key: map(layer.key), value: map(layer.value) }));
    const out = new KvCache(
      cache.strategy,
      layers(cache.prelude),
      cache.block.map(layers),
      layers(cache.coda),
    );
    out.length = cache.length;
    out.capacity = capacity;
    return out;
  }

  /** Frees every cache tensor held on the device (call when a batch is done). */
  releaseCache(cache: KvCache): void {
    for (const layer of cache.layers()) {
      if (!cache.borrowed.has(layer.key)) release(layer.key);
      if (!cache.borrowed.has(layer.value)) release(layer.value);
    }
  }

  private emptyLayers(batch: number, n: number): LayerCache[] {
    return Array.from({ length: n }, () => this.emptyLayer(batch));
  }

  private emptyLayer(batch: number): LayerCache {
    const { num_key_value_heads: kv, head_dim: d } = this.manifest.architecture;
    const make = () =>
      this.kvType === "float16"
        ? new this.ort.Tensor("float16", new Uint16Array(0), [batch, kv, 0, d])
        : new this.ort.Tensor("float32", new Float32Array(0), [batch, kv, 0, d]);
    return { key: make(), value: make() };
  }

  /**
   * Runs one graph on `layers`' caches (`past`: what it reads, when not `layers` themselves).
   * A growing cache takes the presents as the layers' new tensors, freeing the old ones not in
   * `keep`; an in-place cache binds each layer's buffer as its present, so the graph writes the
   * new position into it.
   */
  private async run(
    session: Ort.InferenceSession,
    inputs: Record<string, Ort.Tensor>,
    cache: KvCache,
    layers: LayerCache[],
    keep: ReadonlySet<Ort.Tensor> = cache.borrowed,
    past: LayerCache[] = layers,
  ): Promise<Ort.InferenceSession.OnnxValueMapType> {
    const all = { ...inputs, ...feeds(past) };
    if (cache.capacity === null) {
      const outputs = await session.run(all);
      updateCache(layers, outputs, keep);
      return outputs;
    }
    const fetches: Record<string, Ort.Tensor | null> = {};
    for (const name of session.outputNames) fetches[name] = null;
    layers.forEach((layer, i) => {
      fetches[`present.${i}.key`] = layer.key;
      fetches[`present.${i}.value`] = layer.value;
    });
    return session.run(all, fetches);
  }
}

function sameLayer(a: LayerCache, b: LayerCache): boolean {
  return a.key === b.key && a.value === b.value;
}

function feeds(layers: LayerCache[]): Record<string, Ort.Tensor> {
  const out: Record<string, Ort.Tensor> = {};
  layers.forEach((layer, i) => {
    out[`past_key_values.${i}.key`] = layer.key;
    out[`past_key_values.${i}.value`] = layer.value;
  });
  return out;
}

/** Device tensors must be freed explicitly; CPU tensors are left to the garbage collector. */
function release(tensor: Ort.Tensor): void {
  if (tensor.location === "gpu-buffer") tensor.dispose();
}

/** Replaces each layer's cache with the graph's presents, freeing the old device tensors. */
function updateCache(
  layers: LayerCache[],
  outputs: Ort.InferenceSession.OnnxValueMapType,
  keep: ReadonlySet<Ort.Tensor> = new Set(),
): void {
  layers.forEach((layer, i) => {
    if (!keep.has(layer.key)) release(layer.key);
    if (!keep.has(layer.value)) release(layer.value);
    layer.key = outputs[`present.${i}.key`] as Ort.Tensor;
    layer.value = outputs[`present.${i}.value`] as Ort.Tensor;
  });
}
