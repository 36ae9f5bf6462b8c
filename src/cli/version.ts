/** lv's version: deno.json's "version". */
import denoJson from "../../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;
