import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The files a Bulk API 2.0 ingest job keeps. */
export type SpoolFile = 'upload' | 'successful' | 'failed' | 'unprocessed';

const FILES: readonly SpoolFile[] = ['upload', 'successful', 'failed', 'unprocessed'];

/**
 * Per-emulator temporary directory for job data and results. Uploads and results are streamed
 * to and from disk so a 100k-record job never sits in memory as one string (as on Salesforce,
 * job data is kept until the job is deleted).
 */
export class JobSpool {
  private dir: string | undefined;

  /** Path of one file of a job (the directory is created on first use). */
  path(jobId: string, file: SpoolFile): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'markmail-sf-bulk-'));
    return join(this.dir, `${jobId}.${file}.csv`);
  }

  /** Opens a file for writing (truncating it). */
  writer(jobId: string, file: SpoolFile): WriteStream {
    return createWriteStream(this.path(jobId, file));
  }

  /** Streams a file's bytes. */
  reader(jobId: string, file: SpoolFile): AsyncIterable<Buffer> {
    return createReadStream(this.path(jobId, file));
  }

  /** Deletes every file of a job. */
  async remove(jobId: string): Promise<void> {
    if (!this.dir) return;
    await Promise.all(FILES.map((file) => rm(this.path(jobId, file), { force: true })));
  }

  /** Deletes the whole directory (emulator reset or stop). */
  dispose(): void {
    if (!this.dir) return;
    rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** Writes a chunk and waits for `drain` when the stream's buffer is full (backpressure). */
export async function writeChunk(stream: WriteStream, chunk: string): Promise<void> {
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

/** Ends a write stream and waits until its data is flushed to disk. */
export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
