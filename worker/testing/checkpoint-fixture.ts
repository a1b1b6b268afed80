// Registers the fixture checkpoint through the API in a workerd test.
import type { Checkpoint } from "../protocol.ts";
import { expectJson, uploadBlob } from "./api.ts";
import type { CheckpointFixture } from "./manifest-fixture.ts";

export { type CheckpointFixture, checkpointFixture } from "./manifest-fixture.ts";

/** Uploads every file and registers the manifest; returns the checkpoint id. */
export async function registerCheckpoint(
  token: string,
  fixture: CheckpointFixture,
): Promise<string> {
  for (const bytes of fixture.files.values()) await uploadBlob(token, bytes);
  const checkpoint = await expectJson<Checkpoint>(201, "POST", "/api/checkpoints", {
    token,
    json: { manifest: fixture.manifest },
  });
  return checkpoint.id;
}
