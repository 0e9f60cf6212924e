export function buildWorld(): {
  width: number;
  height: number;
  outlines: Map<string, string>;
  points: Map<string, [number, number]>;
  small: string[];
};
export function renderWorldModule(): string;
