-- Issue 17: a shard says whether its checkpoint's graphs hold operators onnxruntime-web's WebGPU
-- provider has no kernel for (i8's int8 GEMMs, model/manifest.ts `webGpuLacksKernels`), which ORT
-- then runs on its CPU kernels with copies around each. Copied from the manifest at run creation,
-- like `memory_bytes`, so the lease query orders by it without a join: a WebGPU runner takes such
-- shards only when nothing else it can run is queued.
ALTER TABLE shards ADD COLUMN webgpu_cpu_ops INTEGER NOT NULL DEFAULT 0;
UPDATE shards SET webgpu_cpu_ops = 1 WHERE run_id IN (
  SELECT r.id FROM runs r JOIN checkpoints c ON c.id = r.checkpoint_id
  WHERE json_extract(c.manifest, '$.dtype') = 'i8'
    OR json_extract(c.manifest, '$.quantization.linear') IN ('MatMulInteger', 'DynamicQuantizeMatMul'));
-- The WebGPU runner's queue order (see worker/leases/lease-shard.ts).
CREATE INDEX shards_queue_webgpu ON shards (state, webgpu_cpu_ops, failures DESC);
