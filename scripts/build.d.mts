export interface Plane {
  name: string;
  config: string;
  outdir: string;
  /** Absolute path of the artefact's entry (index.js). */
  entry: string;
}
export const ROOT: string;
export const PLANES: Plane[];
export function build(): Array<Plane & { bytes: number; gzipBytes: number }>;
