// A cache entry as it travels through the remote cache: its bytes with their SHA-256, its cache key and metadata,
// signed with HMAC-SHA256. Anyone who can write to the bucket but does not hold the key cannot make an entry that
// a reader accepts (the cache poisoning of Turborepo #12302 and Nx CVE-2025-36852).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../store/cache.js';
import { sha256 } from '../store/hash.js';

/** Bumped when the envelope changes: older entries are then refused as of another version, and miss. */
const ENVELOPE_FORMAT = 1;

/** The object stored in the bucket (JSON). */
interface Envelope {
  format: number;
  /** The cache key it answers: signed, so a valid entry copied under another key is refused. */
  key: string;
  sha256: string;
  metadata: Record<string, unknown>;
  /** The entry's bytes, base64. */
  data: string;
  /** HMAC-SHA256 (hex) of the canonical JSON of format, key, sha256 and metadata. */
  hmac?: string;
}

/** An entry's bytes and metadata, ready to store. */
export interface EntryContent {
  key: string;
  data: Buffer;
  metadata: Record<string, unknown>;
}

/** The signed object for an entry. */
export function sealEntry(entry: EntryContent, secret: string): Buffer {
  const signed = { format: ENVELOPE_FORMAT, key: entry.key, sha256: sha256(entry.data), metadata: entry.metadata };
  const envelope: Envelope = { ...signed, data: entry.data.toString('base64'), hmac: sign(signed, secret) };
  return Buffer.from(JSON.stringify(envelope));
}

/** The entry an object holds, or why it must not be used (unsigned, signed with another key, bytes changed). */
export function openEntry(key: string, bytes: Buffer, secret: string): EntryContent | { problem: string } {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(bytes.toString('utf8')) as Envelope;
  } catch {
    return { problem: 'is not JSON' };
  }
  if (envelope?.format !== ENVELOPE_FORMAT || typeof envelope.data !== 'string' || typeof envelope.sha256 !== 'string' || typeof envelope.key !== 'string') {
    return { problem: 'is not a remote cache entry of this version' };
  }
  if (typeof envelope.hmac !== 'string') return { problem: 'is unsigned' };
  const expected = Buffer.from(sign({ format: envelope.format, key: envelope.key, sha256: envelope.sha256, metadata: envelope.metadata ?? {} }, secret), 'hex');
  const found = Buffer.from(envelope.hmac, 'hex');
  if (found.length !== expected.length || !timingSafeEqual(found, expected)) return { problem: 'has a signature that does not match this key (written with another key, or altered)' };
  if (envelope.key !== key) return { problem: `is signed for another cache key (${envelope.key.slice(0, 12)}…)` };
  const data = Buffer.from(envelope.data, 'base64');
  if (sha256(data) !== envelope.sha256) return { problem: 'has content that does not match its SHA-256' };
  return { key, data, metadata: envelope.metadata ?? {} };
}

function sign(signed: Omit<Envelope, 'data' | 'hmac'>, secret: string): string {
  return createHmac('sha256', secret).update(canonicalJson(signed)).digest('hex');
}
