/** One line of `lv doctor`: what was checked, whether it holds (or only warns), and the fix when it does not. */
export interface Check {
  name: string;
  ok: boolean | "warn";
  detail: string;
  fix?: string;
}
