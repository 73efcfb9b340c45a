package dev.bucketdrive.s3;

import java.net.URI;

/** Creates the test bucket on a server started by Testcontainers, and the options to reach it. */
final class ContainerBuckets {

    private ContainerBuckets() {
    }

    static S3Options create(URI endpoint, String accessKey, String secretKey, String region, String bucket) {
        // The SDK reads these through its default provider chain, like any user's credentials.
        System.setProperty("aws.accessKeyId", accessKey);
        System.setProperty("aws.secretAccessKey", secretKey);
        S3Options options = S3Options.builder(bucket).endpoint(endpoint).pathStyle(true).region(region).build();
        try (var s3 = S3Clients.build(options)) {
            s3.createBucket(b -> b.bucket(bucket));
        }
        return options;
    }
}
