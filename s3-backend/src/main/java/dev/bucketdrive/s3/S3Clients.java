package dev.bucketdrive.s3;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.utils.AttributeMap;

/** Builds the SDK client the options describe. Credentials only through the SDK's providers. */
final class S3Clients {

    /**
     * The SDK's client, and the direct path for single-object and multipart requests where it applies
     * ({@code null} elsewhere): a custom endpoint with checksums only when required, so that the SDK would add
     * nothing to those requests either. AWS itself keeps the SDK's checksums and endpoint rules.
     * Closing closes the HTTP client too: the SDK leaves one it was given open.
     */
    record Clients(S3Client sdk, SdkHttpClient http, DirectObjectRequests direct) implements AutoCloseable {
        @Override
        public void close() {
            try (http) {
                sdk.close();
            }
        }
    }

    private S3Clients() {
    }

    static Clients build(S3Options o) {
        AwsCredentialsProvider credentials = o.profile() != null
                ? ProfileCredentialsProvider.builder().profileName(o.profile()).build()
                : DefaultCredentialsProvider.builder().build();
        Region region = o.region() != null ? Region.of(o.region())
                : o.endpoint() != null ? Region.US_EAST_1
                : new DefaultAwsRegionProviderChain().getRegion();

        // The direct path asks for the server's go-ahead itself, for big bodies only (see
        // DirectObjectRequests.withBodyLength): one round trip more for every small PUT costs more than
        // the body it might save.
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .maxConnections(o.maxConnections())
                .connectionTimeout(o.connectTimeout())
                .socketTimeout(o.attemptTimeout())
                .expectContinueEnabled(false);
        SdkHttpClient httpClient = o.insecureTls()
                ? http.buildWithDefaults(AttributeMap.builder()
                        .put(SdkHttpConfigurationOption.TRUST_ALL_CERTIFICATES, Boolean.TRUE).build())
                : http.build();

        boolean onlyRequired = o.checksumsOnlyWhenRequired();
        var builder = S3Client.builder()
                .httpClient(httpClient)
                .credentialsProvider(credentials)
                .region(region)
                .forcePathStyle(o.pathStyle())
                .requestChecksumCalculation(onlyRequired
                        ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED)
                .responseChecksumValidation(onlyRequired
                        ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        // Resilience4j retries; the SDK retrying too would multiply the attempts.
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(o.attemptTimeout())
                        .build());
        if (o.endpoint() != null) {
            builder.endpointOverride(o.endpoint());
            // Bodies sent whole rather than in aws-chunked pieces, which costs both ends less CPU (a
            // 256 MiB upload to S3Proxy finished about 0.6 s sooner on two cores); on plain HTTP they
            // are not hashed for the signature either. AWS itself keeps the SDK's defaults.
            builder.serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
            if ("http".equalsIgnoreCase(o.endpoint().getScheme())) {
                builder.putAuthScheme(UnsignedBodySigner.scheme());
            }
        }
        S3Client sdk = builder.build();
        if (o.endpoint() == null || !o.checksumsOnlyWhenRequired()) {
            return new Clients(sdk, httpClient, null);
        }
        // The URL the client's own rules give a key, less the key: path style or not, as configured.
        String keyUrl = sdk.utilities().getUrl(b -> b.bucket(o.bucket()).key("k")).toString();
        URI bucketUrl = URI.create(keyUrl.substring(0, keyUrl.length() - 1));
        return new Clients(sdk, httpClient, new DirectObjectRequests(httpClient, credentials, region.id(), bucketUrl));
    }
}
