import assert from "node:assert/strict";
import {
  decimalSuffixHint,
  formatQuantity,
  GiB,
  KiB,
  MiB,
  parseQuantity,
  QUANTITY_PATTERN,
  QuantityError,
  TiB,
} from "../../src/api/quantity.ts";

Deno.test("parseQuantity() converts Kubernetes quantities to bytes", async (t) => {
  const cases: [string | number, number][] = [
    ["512Mi", 512 * MiB],
    ["2Gi", 2 * GiB],
    ["1Ti", TiB],
    ["1Ki", KiB],
    ["1.5Gi", 1.5 * GiB],
    ["0.5Ki", 512],
    [".5Ki", 512],
    ["1G", 1_000_000_000],
    ["100k", 100_000],
    ["10M", 10_000_000],
    ["1e3", 1000],
    ["1E6", 1_000_000],
    ["2000m", 2],
    ["+1Ki", 1024],
    ["0", 0],
    [" 1Gi ", GiB],
    ["1024", 1024],
    [1024, 1024],
    [0, 0],
  ];
  for (const [input, bytes] of cases) {
    await t.step(`${JSON.stringify(input)} is ${bytes} bytes`, () => {
      assert.equal(parseQuantity(input), bytes);
    });
  }
});

Deno.test("parseQuantity() reads plain numbers in plainUnit", () => {
  assert.equal(parseQuantity(512, { plainUnit: MiB }), 512 * MiB);
  assert.equal(parseQuantity("512", { plainUnit: MiB }), 512 * MiB);
  assert.equal(parseQuantity(1.5, { plainUnit: GiB }), 1.5 * GiB);
  assert.equal(parseQuantity(40, { plainUnit: GiB }), 40 * GiB);
  // a suffix wins over the plain unit
  assert.equal(parseQuantity("2Gi", { plainUnit: MiB }), 2 * GiB);
  assert.equal(parseQuantity("1e3", { plainUnit: MiB }), 1000);
});

Deno.test("parseQuantity() rejects what is not a whole, non-negative number of bytes", async (t) => {
  const cases: [string | number, string, string?][] = [
    ["", "must not be empty"],
    ["-1Gi", "must not be negative"],
    [-5, "must not be negative"],
    [Number.NaN, "must be a finite number"],
    [Infinity, "must be a finite number"],
    ["0.5", "must be a whole number of bytes"],
    [0.5, "must be a whole number of bytes"],
    ["1m", "must be a whole number of bytes"],
    ["2GB", "must be a size", 'did you mean "2Gi"?'],
    ["2gi", "must be a size", 'did you mean "2Gi"?'],
    ["512 MiB", "must be a size", 'did you mean "512Mi"?'],
    ["10kb", "must be a size", 'did you mean "10Ki"?'],
    ["100 bytes", "must be a size", 'did you mean "100"?'],
    ["lots", "must be a size"],
    ["1Gi; reboot", "must be a size"],
    ["$(reboot)", "must be a size"],
    ["1e999", "is out of range"],
    ["100Ei", "is out of range"],
    ["1".repeat(100), "is too long"],
  ];
  for (const [input, message, hint] of cases) {
    await t.step(`${JSON.stringify(input)}: ${message}`, () => {
      assert.throws(() => parseQuantity(input), (e: unknown) => {
        assert.ok(e instanceof QuantityError);
        assert.ok(e.message.startsWith(message), e.message);
        assert.equal(e.input, input);
        assert.equal(e.hint, hint);
        return true;
      });
    });
  }
});

Deno.test("formatQuantity() picks the largest exact binary unit and round-trips", () => {
  assert.equal(formatQuantity(2 * GiB), "2Gi");
  assert.equal(formatQuantity(512 * MiB), "512Mi");
  assert.equal(formatQuantity(1536), "1536");
  assert.equal(formatQuantity(1536 * MiB), "1536Mi");
  assert.equal(formatQuantity(16 * TiB), "16Ti");
  for (const n of [1, 1023, 1024, 3 * GiB, 5 * TiB + MiB]) assert.equal(parseQuantity(formatQuantity(n)), n);
});

Deno.test("decimalSuffixHint() explains decimal suffixes that were probably meant as binary", () => {
  assert.equal(decimalSuffixHint("512M"), '512M is 512000000 bytes; did you mean "512Mi"?');
  assert.equal(decimalSuffixHint("1k"), '1k is 1000 bytes; did you mean "1Ki"?');
  assert.equal(decimalSuffixHint("512Mi"), undefined);
  assert.equal(decimalSuffixHint(512), undefined);
});

Deno.test("QUANTITY_PATTERN accepts what parseQuantity accepts (non-negative)", () => {
  const re = new RegExp(QUANTITY_PATTERN);
  for (const ok of ["512Mi", "2Gi", "1G", "100k", "1.5Gi", "1e3", "+1Ki", "10"]) assert.ok(re.test(ok), ok);
  for (const bad of ["2GB", "-1", "Gi", "1 Gi", "$(x)"]) assert.ok(!re.test(bad), bad);
});
