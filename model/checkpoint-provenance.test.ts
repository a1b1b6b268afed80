// Provenance labels as issue 12 spells them: repo@revision, preset or folder name, the adapter as
// trained / random seed=N / identity, and the flavour exactly as the manifest states it.
import { describe, expect, it } from "vitest";
import {
  adapterDescription,
  checkpointProvenance,
  publicSourceLabel,
} from "./checkpoint-provenance.ts";
import type { Manifest } from "./manifest.ts";

const source = { repo: null, revision: null, path: null, preset: null };

describe("checkpoint provenance", () => {
  it("names the source by repo@revision, preset, or the local folder's name only", () => {
    expect(
      publicSourceLabel({
        ...source,
        kind: "hf",
        repo: "tomg-group-umd/huginn-0125",
        revision: "0123456789abcdef0123456789abcdef01234567",
      }),
    ).toBe("tomg-group-umd/huginn-0125@0123456789abcdef0123456789abcdef01234567");
    expect(publicSourceLabel({ ...source, kind: "hf", repo: "org/m" })).toBe(
      "org/m@unknown revision",
    );
    expect(publicSourceLabel({ ...source, kind: "random", preset: "tiny" })).toBe(
      "random preset tiny",
    );
    expect(
      publicSourceLabel({ ...source, kind: "path", path: "/home/ann/models/stories260k/" }),
    ).toBe("stories260k (local)");
    expect(publicSourceLabel({ ...source, kind: "path", path: "C:\\Users\\ann\\raven" })).toBe(
      "raven (local)",
    );
  });

  it("describes the adapter as trained, random seed=N or identity", () => {
    expect(adapterDescription({ init: "trained", std: null, seed: null })).toBe("trained");
    expect(adapterDescription({ init: "random", std: 0.02, seed: 7 })).toBe("random seed=7");
    expect(adapterDescription({ init: "identity", std: null, seed: null })).toBe("identity");
    expect(adapterDescription(null)).toBe("none");
  });

  it("keeps the raven flavour and the config default r apart from the training r", () => {
    const manifest = {
      architecture: { flavour: "huginn" },
      source: { ...source, kind: "hf", repo: "tomg-group-umd/huginn-0125", revision: "main" },
      adapter: { init: "trained", std: null, seed: null },
      train_recurrence: null,
      config_default_recurrence: 32,
    } as unknown as Manifest;
    expect(checkpointProvenance(manifest)).toEqual({
      flavour: "huginn",
      source: "tomg-group-umd/huginn-0125@main",
      adapter: "trained",
      train_recurrence: null,
      config_default_recurrence: 32,
    });
  });
});
