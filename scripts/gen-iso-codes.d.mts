export function buildIsoTable(): { countries: string; subdivisions: string };
export function renderIsoModule(): string;
