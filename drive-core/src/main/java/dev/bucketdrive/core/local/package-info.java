/**
 * The local-store ports: where the drive keeps file data ({@link dev.bucketdrive.core.local.ChunkStore}),
 * what it still owes the bucket ({@link dev.bucketdrive.core.local.UploadJournal}) and what it knows of
 * the namespace ({@link dev.bucketdrive.core.local.MetadataIndex}), and how changes to the last two are
 * grouped into one transaction ({@link dev.bucketdrive.core.local.LocalTransactions}). The {@code cache}
 * module implements them on local disk and SQLite; all of it survives a restart.
 */
package dev.bucketdrive.core.local;
