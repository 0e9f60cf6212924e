/** The curl lines `npm start` prints, with `base` as the gate's URL. */
export function curlLines(base: string): string;
