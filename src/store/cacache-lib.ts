// cacache, the content-addressed store of prompt answers and step entries. The build bundles it, with its
// dependencies, into a file of its own (dist/store/cacache-lib.cjs; scripts/build.mjs): one file to load instead
// of some forty modules to find and read, which halves what loading it costs a run with prompt or cached steps.
export { default } from 'cacache';
