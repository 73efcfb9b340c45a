package dev.bucketdrive.s3;

import java.net.URI;

/**
 * The servers Testcontainers starts for tests (one image tag each, shared by every test that uses it),
 * and the buckets made on them.
 */
public final class ContainerBuckets {

    public static final String MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z";
    public static final String LOCALSTACK_IMAGE = "localstack/localstack:4.4";

    private ContainerBuckets() {
    }

    /** Creates {@code bucket} and returns the options to reach it. */
    public static S3Options create(URI endpoint, String accessKey, String secretKey, String region, String bucket) {
        // The SDK reads these through its default provider chain, like any user's credentials.
        System.setProperty("aws.accessKeyId", accessKey);
        System.setProperty("aws.secretAccessKey", secretKey);
        S3Options options = S3Options.builder(bucket).endpoint(endpoint).pathStyle(true).region(region).build();
        try (var clients = S3Clients.build(options)) {
            clients.sdk().createBucket(b -> b.bucket(bucket));
        }
        return options;
    }
}
