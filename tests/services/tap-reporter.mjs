// tap-reporter.mjs: node:test results as the plain TAP that meson reads.
//
// Node's own TAP reporter writes failures as YAML blocks that meson's TAP
// parser does not take (a failure then reads as a parse error); here a
// failure's error and stack are comment lines under its `not ok`. A failing
// top-level hook (after) counts as a test of its own.
export default async function* reporter(source) {
  let count = 0;

  for await (const event of source) {
    const data = event.data ?? {};

    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || data.nesting !== 0)
      continue;
    count++;
    if (event.type === 'test:pass') {
      yield `ok ${count} - ${data.name}\n`;
      continue;
    }
    yield `not ok ${count} - ${data.name}\n`;
    const error = data.details?.error;
    const cause = error?.cause ?? error;
    const text = cause?.stack ?? String(cause);
    for (const line of text.split('\n'))
      yield `# ${line}\n`;
  }
  yield `1..${count}\n`;
}
