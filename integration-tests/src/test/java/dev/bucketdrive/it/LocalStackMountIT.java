package dev.bucketdrive.it;

import dev.bucketdrive.s3.ContainerBuckets;
import dev.bucketdrive.s3.S3Options;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;

/** The mount scenarios against LocalStack's S3. Skipped (not failed) where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackMountIT extends MountScenarios {

    @Container
    static final LocalStackContainer LOCALSTACK = new LocalStackContainer(ContainerBuckets.LOCALSTACK_IMAGE)
            .withServices("s3");

    @Override
    protected S3Options createBucket(String bucket) {
        return ContainerBuckets.create(LOCALSTACK.getEndpoint(), LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey(),
                LOCALSTACK.getRegion(), bucket);
    }
}
