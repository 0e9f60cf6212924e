export function isolatedWranglerConfig(source: string, outDir: string): string;
