let launcherScript: string | undefined;

/** Where the launcher's entry point was built (set by the CLI, which knows its own location). */
export function setLauncherScript(file: string): void {
  launcherScript = file;
}

/** The launcher's entry point, if the CLI set it. */
export function getLauncherScript(): string | undefined {
  return launcherScript;
}
