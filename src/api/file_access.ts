/** Whether the file exists and this user may open it to read and write (Deno has no access(2)). */
export function opensReadWrite(path: string): boolean {
  try {
    Deno.openSync(path, { read: true, write: true }).close();
    return true;
  } catch {
    return false;
  }
}
