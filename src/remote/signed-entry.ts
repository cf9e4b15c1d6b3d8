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
  /** The signing key's id (keyId): not signed, it only tells a reader that fails the signature whether the key differs. */
  key_id?: string;
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
  const envelope: Envelope = { ...signed, data: entry.data.toString('base64'), hmac: sign(signed, secret), key_id: keyId(secret) };
  return Buffer.from(JSON.stringify(envelope));
}

/**
 * A key's id, the same on every machine with that key: 12 hex digits of an HMAC of a fixed text with it (it says
 * nothing of the key). Entries carry it, and `doctor` shows it, so that machines can tell whether they share a key.
 */
export function keyId(secret: string): string {
  return createHmac('sha256', secret).update('orchestrator remote cache key id').digest('hex').slice(0, 12);
}

/**
 * The entry an object holds, or why it must not be used (unsigned, signed with another key, bytes changed).
 * `otherKey`: the id of the key it was signed with, when that is not this machine's (then it was not altered: it is
 * another machine's, written with a key of its own).
 */
export function openEntry(key: string, bytes: Buffer, secret: string): EntryContent | { problem: string; otherKey?: string } {
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
  if (found.length !== expected.length || !timingSafeEqual(found, expected)) {
    const mine = keyId(secret);
    if (typeof envelope.key_id === 'string' && /^[0-9a-f]{12}$/.test(envelope.key_id) && envelope.key_id !== mine) {
      return { problem: `is signed with another key (key id ${envelope.key_id}; this machine's $ORCH_REMOTE_CACHE_KEY has key id ${mine})`, otherKey: envelope.key_id };
    }
    return { problem: 'has a signature that does not match this key (written with another key, or altered)' };
  }
  if (envelope.key !== key) return { problem: `is signed for another cache key (${envelope.key.slice(0, 12)}…)` };
  const data = Buffer.from(envelope.data, 'base64');
  if (sha256(data) !== envelope.sha256) return { problem: 'has content that does not match its SHA-256' };
  return { key, data, metadata: envelope.metadata ?? {} };
}

/**
 * Why a result was not written over a remote entry signed with another key: machines whose keys differ would
 * otherwise overwrite each other's entries for good, each missing what the other wrote.
 */
export function notOverwritten(about: string, otherKey: string, url: string): string {
  return `${about} is signed with another key (key id ${otherKey}): not overwritten, the result is stored locally only (every machine that shares ${url} needs the same $ORCH_REMOTE_CACHE_KEY; after changing the key, use a new prefix)`;
}

function sign(signed: Omit<Envelope, 'data' | 'hmac'>, secret: string): string {
  return createHmac('sha256', secret).update(canonicalJson(signed)).digest('hex');
}
