/**
 * The object-store port: what the drive needs from S3, with typed errors and no transport types.
 * {@code s3-backend} implements it over the AWS SDK; the test-jar has an in-memory implementation.
 */
package dev.bucketdrive.core.store;
