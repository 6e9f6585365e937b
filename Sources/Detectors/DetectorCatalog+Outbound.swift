// Formats cross-checked against public rule sets (gitleaks `config/gitleaks.toml`, trufflehog
// detectors, detect-secrets plugins, secretlint); the patterns are our own.

extension DetectorCatalog {
    static let outbound: [DetectorDefinition] =
        github + [gitlabPersonalAccessToken] + aws + anthropic + openAI + slack + stripe
        + google + [privateKey, jsonWebToken, npmAccessToken, pypiUploadToken, huggingFaceToken]
        + twilio + [sendGridAPIKey] + azure + digitalOcean + shopify + [databricksToken] + vault
        + [telegramBotToken, ageSecretKey, urlCredentials] + platforms

    // MARK: GitHub

    private static let github: [DetectorDefinition] = [
        githubChecksummed(
            id: "github_token_classic",
            label: "GitHub token (classic)",
            prefix: "ghp_",
            kind: "GitHub personal access token (classic)"
        ),
        githubChecksummed(
            id: "github_oauth_token",
            label: "GitHub OAuth token",
            prefix: "gho_",
            kind: "GitHub OAuth access token"
        ),
        githubChecksummed(
            id: "github_user_to_server_token",
            label: "GitHub user-to-server token",
            prefix: "ghu_",
            kind: "GitHub App user-to-server token"
        ),
        githubChecksummed(
            id: "github_server_to_server_token",
            label: "GitHub server-to-server token",
            prefix: "ghs_",
            kind: "GitHub App installation (server-to-server) token"
        ),
        githubChecksummed(
            id: "github_refresh_token",
            label: "GitHub refresh token",
            prefix: "ghr_",
            kind: "GitHub App refresh token"
        ),
        DetectorDefinition(
            id: "github_fine_grained_pat",
            label: "GitHub fine-grained token",
            direction: .outbound,
            summary: "GitHub fine-grained personal access token: `github_pat_` + 82 characters",
            pattern: #"github_pat_[A-Za-z0-9_]{82}"# + PatternPart.trailing,
            keywords: [["github_pat_"]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        ),
    ]

    private static func githubChecksummed(id: String, label: String, prefix: String, kind: String) -> DetectorDefinition
    {
        // No leading boundary: the CRC32 checksum is the false-positive control, and tokens do
        // turn up glued to other text (`%3Dghp_...`).
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: "\(kind): `\(prefix)` + 36 base62 characters whose last 6 are the CRC32 checksum",
            pattern: prefix + "[A-Za-z0-9]{36}" + PatternPart.trailing,
            keywords: [[Keyword(stringLiteral: prefix)]],
            validators: [.githubChecksum(prefixLength: prefix.utf8.count)],
            anchorGroup: 0
        )
    }

    private static let gitlabPersonalAccessToken = DetectorDefinition(
        id: "gitlab_pat",
        label: "GitLab personal access token",
        direction: .outbound,
        summary:
            "GitLab personal access token: `glpat-` + 20 characters, or the routable form `glpat-<payload>.01<7-character checksum>`",
        pattern: PatternPart.leadingDash + #"glpat-(?:[A-Za-z0-9_-]{27,300}+\.[0-9a-z]{9}|[A-Za-z0-9_-]{20})"#
            + PatternPart.trailingDash,
        keywords: [["glpat-"]],
        validators: [.minimumEntropy(3.0)],
        anchorGroup: 0
    )

    // MARK: AWS

    private static let aws: [DetectorDefinition] = [
        DetectorDefinition(
            id: "aws_access_key_id",
            label: "AWS access key ID",
            direction: .outbound,
            summary: "AWS access key id: `AKIA`/`ASIA`/`ABIA`/`ACCA`/`A3T…` + 16 base32 characters",
            pattern: #"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])"#,
            keywords: [["a3t", "akia", "asia", "abia", "acca"]],
            validators: [.minimumEntropy(3.0)],
            anchorGroup: 0
        ),
        DetectorDefinition(
            id: "aws_secret_access_key",
            label: "AWS secret access key",
            direction: .outbound,
            summary:
                "AWS secret access key: 40 base64 characters assigned to `aws_secret_access_key`, `SecretAccessKey` or similar",
            pattern: PatternPart.assignment(
                awsSecretKeywords,
                value: "[A-Za-z0-9/+]{40}",
                valueEnd: "(?![A-Za-z0-9/+=])"
            ),
            keywords: [awsSecretKeywords.map(Keyword.init(stringLiteral:))],
            secretGroup: 1,
            validators: [.minimumEntropy(4.0)],
            anchorGroup: 0
        ),
    ]

    private static let awsSecretKeywords = [
        "secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "aws-secret", "awssecret",
    ]

    // MARK: Anthropic

    private static let anthropic: [DetectorDefinition] = [
        anthropicKey(
            id: "anthropic_api_key",
            label: "Anthropic API key",
            kinds: #"api\d{2}"#,
            keywords: ["sk-ant-api"],
            summary: "Anthropic API key: `sk-ant-api03-` + ~93 characters, ending in `AA`"
        ),
        anthropicKey(
            id: "anthropic_admin_key",
            label: "Anthropic admin key",
            kinds: #"admin\d{2}"#,
            keywords: ["sk-ant-admin"],
            summary: "Anthropic admin API key: `sk-ant-admin01-` + ~93 characters, ending in `AA`"
        ),
        anthropicKey(
            id: "anthropic_oauth_token",
            label: "Anthropic OAuth token",
            kinds: #"o(?:at|rt)\d{2}"#,
            keywords: ["sk-ant-oat", "sk-ant-ort"],
            summary:
                "Anthropic OAuth access/refresh token: `sk-ant-oat01-`/`sk-ant-ort01-` + ~93 characters, ending in `AA`"
        ),
    ]

    private static func anthropicKey(
        id: String,
        label: String,
        kinds: String,
        keywords: [Keyword],
        summary: String
    ) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: summary,
            // The run is possessive and must end in "AA": one pass per attempt, no backtracking.
            pattern: PatternPart.leadingDash + "sk-ant-" + kinds + "-[A-Za-z0-9_-]{82,122}+(?<=AA)"
                + PatternPart.trailingDash,
            keywords: [keywords],
            validators: [.minimumEntropy(4.0)],
            anchorGroup: 0
        )
    }

    // MARK: OpenAI

    private static let openAI: [DetectorDefinition] = [
        openAIKey(id: "openai_project_key", label: "OpenAI project key", prefix: "sk-proj-", kind: "project API key"),
        openAIKey(
            id: "openai_service_account_key",
            label: "OpenAI service account key",
            prefix: "sk-svcacct-",
            kind: "service account key"
        ),
        openAIKey(id: "openai_admin_key", label: "OpenAI admin key", prefix: "sk-admin-", kind: "admin key"),
        DetectorDefinition(
            id: "openai_legacy_api_key",
            label: "OpenAI API key (legacy)",
            direction: .outbound,
            summary: "OpenAI legacy user key: `sk-` + 20 + `T3BlbkFJ` + 20 characters (and `sk-None-…T3BlbkFJ…`)",
            pattern: PatternPart.leadingDash
                + #"sk-(?:None-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})"#
                + PatternPart.trailingDash,
            keywords: [["t3blbkfj"]],
            validators: [.minimumEntropy(3.5)]
        ),
    ]

    private static func openAIKey(id: String, label: String, prefix: String, kind: String) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: "OpenAI \(kind): `\(prefix)` + characters containing `T3BlbkFJ`",
            pattern: PatternPart.leadingDash + prefix + "[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}"
                + PatternPart.trailingDash,
            keywords: [[Keyword(stringLiteral: prefix)], ["t3blbkfj"]],
            validators: [.minimumEntropy(4.0)],
            anchorGroup: 0
        )
    }

    // MARK: Slack

    private static let slack: [DetectorDefinition] = [
        slackToken(
            id: "slack_bot_token",
            label: "Slack bot token",
            keywords: ["xoxb-"],
            pattern: #"xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,48}"#,
            summary: "Slack bot token: `xoxb-<team>-<bot>-<secret>`"
        ),
        slackToken(
            id: "slack_user_token",
            label: "Slack user token",
            keywords: ["xoxp-", "xoxe-"],
            pattern: #"xox[pe](?:-[0-9]{8,14}){3}-[A-Za-z0-9]{28,34}"#,
            summary: "Slack user token: `xoxp-…` with three numeric parts and a 28–34 character secret"
        ),
        slackToken(
            id: "slack_app_token",
            label: "Slack app token",
            keywords: ["xapp-"],
            pattern: #"xapp-[0-9]-[A-Z0-9]{6,16}-[0-9]{6,16}-[a-z0-9]{32,128}"#,
            summary: "Slack app-level token: `xapp-1-…`"
        ),
        slackToken(
            id: "slack_legacy_token",
            label: "Slack legacy token",
            keywords: ["xoxa-", "xoxr-", "xoxo-", "xoxs-"],
            pattern:
                #"(?:xox[os]-[0-9]{1,20}-[0-9]{1,20}-[0-9]{1,20}-[A-Fa-f0-9]{8,64}|xox[ar]-(?:[0-9]-)?[A-Za-z0-9]{8,48})"#,
            summary: "Slack legacy and workspace tokens: `xoxa-`, `xoxr-`, `xoxo-`, `xoxs-`"
        ),
        slackToken(
            id: "slack_config_token",
            label: "Slack configuration token",
            keywords: ["xoxe.xox", "xoxe-"],
            pattern: #"(?:xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{163,166}|xoxe-[0-9]-[A-Za-z0-9]{146})"#,
            summary: "Slack app configuration access/refresh token: `xoxe.xoxp-1-…`, `xoxe-1-…`"
        ),
        DetectorDefinition(
            id: "slack_webhook_url",
            label: "Slack webhook URL",
            direction: .outbound,
            summary: "Slack incoming webhook / workflow URL: `hooks.slack.com/services/T…/B…/…`",
            pattern: #"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{40,160}"#
                + "(?![A-Za-z0-9+/_-])",
            keywords: [["hooks.slack.com"]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        ),
    ]

    private static func slackToken(
        id: String,
        label: String,
        keywords: [Keyword],
        pattern: String,
        summary: String
    ) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: summary,
            pattern: PatternPart.leadingDash + pattern + PatternPart.trailingDash,
            keywords: [keywords],
            validators: [.minimumEntropy(3.0)],
            anchorGroup: 0
        )
    }

    // MARK: Stripe

    private static let stripe: [DetectorDefinition] = [
        DetectorDefinition(
            id: "stripe_secret_key",
            label: "Stripe secret key",
            direction: .outbound,
            summary: "Stripe live secret key: `sk_live_` + 20–247 characters",
            pattern: PatternPart.leading + "sk_live_[A-Za-z0-9]{20,247}" + PatternPart.trailing,
            keywords: [["sk_live_"]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        ),
        DetectorDefinition(
            id: "stripe_restricted_key",
            label: "Stripe restricted key",
            direction: .outbound,
            summary: "Stripe live restricted key: `rk_live_` + 20–247 characters",
            pattern: PatternPart.leading + "rk_live_[A-Za-z0-9]{20,247}" + PatternPart.trailing,
            keywords: [["rk_live_"]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        ),
    ]

    // MARK: Google

    private static let google: [DetectorDefinition] = [
        DetectorDefinition(
            id: "google_api_key",
            label: "Google API key",
            direction: .outbound,
            summary: "Google API key: `AIza` + 35 characters (39 in all)",
            pattern: "(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}" + PatternPart.trailingDash,
            keywords: [["aiza"]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        ),
        DetectorDefinition(
            id: "gcp_service_account_key",
            label: "GCP service account key",
            direction: .outbound,
            summary:
                #"Google Cloud service account JSON: the `"private_key"` PEM of a file with `"type": "service_account"`"#,
            pattern: #""private_key"\s*:\s*"(-----BEGIN[^"\\]*+(?:\\.[^"\\]*+)*+)""#,
            keywords: [["\"private_key\""], ["service_account"]],
            secretGroup: 1,
            validators: [.pemBody, .nearbyKeyword(["\"service_account\""], before: 8192, after: 8192)],
            rejectsPlaceholders: false,
            anchorGroup: 0
        ),
    ]

    // MARK: Keys and generic token formats

    private static let privateKey = DetectorDefinition(
        id: "pem_private_key",
        label: "private key",
        direction: .outbound,
        summary: "PEM private key block (RSA, EC, DSA, OPENSSH, PGP, ENCRYPTED, PKCS#8) with a real body",
        // The body stops at any run of five dashes, so one header never swallows the next block.
        pattern: #"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"#
            + #"(?:[A-Za-z0-9+/=:,.\t\r\n ]++|\\[nrt]|-(?!----))*+"#
            + #"(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)?"#,
        keywords: [["-----begin"], ["private key"]],
        validators: [.pemBody],
        rejectsPlaceholders: false,
        anchorGroup: 0
    )

    private static let jsonWebToken = DetectorDefinition(
        id: "jwt",
        label: "JSON Web Token",
        direction: .outbound,
        summary: "JSON Web Token: three base64url segments whose header decodes to JSON with `alg`",
        pattern: #"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{12,8192}+\.[A-Za-z0-9_-]{8,16384}+\.[A-Za-z0-9_-]{16,4096}+"#
            + PatternPart.trailingDash,
        keywords: [["eyj"]],
        validators: [.jwtHeader],
        rejectsPlaceholders: false,
        anchorGroup: 0
    )

    private static let npmAccessToken = DetectorDefinition(
        id: "npm_access_token",
        label: "npm access token",
        direction: .outbound,
        summary: "npm access token: `npm_` + 36 characters",
        pattern: PatternPart.leading + "npm_[A-Za-z0-9]{36}" + PatternPart.trailing,
        keywords: [["npm_"]],
        validators: [.minimumEntropy(3.5)],
        anchorGroup: 0
    )

    private static let pypiUploadToken = DetectorDefinition(
        id: "pypi_upload_token",
        label: "PyPI upload token",
        direction: .outbound,
        summary: "PyPI API token: `pypi-AgEIcHlwaS5vcmc` (a macaroon for pypi.org) + 50 or more characters",
        pattern: PatternPart.leadingDash + "pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}+" + PatternPart.trailingDash,
        keywords: [["pypi-ageichlwas5vcmc"]],
        validators: [.minimumEntropy(4.0)],
        rejectsPlaceholders: false,
        anchorGroup: 0
    )

    private static let huggingFaceToken = DetectorDefinition(
        id: "huggingface_token",
        label: "Hugging Face token",
        direction: .outbound,
        summary: "Hugging Face access token: `hf_` (or legacy `api_org_`) + 34 letters",
        pattern: PatternPart.leading + "(?:hf_|api_org_)[A-Za-z]{34}" + PatternPart.trailing,
        keywords: [["hf_", "api_org_"]],
        validators: [.minimumEntropy(3.5)],
        anchorGroup: 0
    )

    // MARK: Twilio, SendGrid

    private static let twilioKeywords: [Keyword] = ["twilio"]
    private static let twilioTokenNames = [
        "auth_token", "authtoken", "auth-token", "api_secret", "apisecret", "api-secret",
    ]

    private static let twilio: [DetectorDefinition] = [
        DetectorDefinition(
            id: "twilio_api_key",
            label: "Twilio API key",
            direction: .outbound,
            summary: "Twilio API key SID: `SK` + 32 hex characters, with `twilio` nearby",
            pattern: PatternPart.leading + "SK[0-9a-fA-F]{32}" + PatternPart.trailing,
            keywords: [twilioKeywords, ["sk"]],
            validators: [.minimumEntropy(3.0), .nearbyKeyword(twilioKeywords, before: 256, after: 256)],
            anchorGroup: 1
        ),
        DetectorDefinition(
            id: "twilio_auth_token",
            label: "Twilio auth token",
            direction: .outbound,
            summary:
                "Twilio auth token / API secret: 32 characters assigned to `auth_token` or `api_secret`, with `twilio` nearby",
            pattern: PatternPart.assignment(twilioTokenNames, value: "[A-Za-z0-9]{32}", valueEnd: PatternPart.trailing),
            keywords: [twilioKeywords, twilioTokenNames.map(Keyword.init(stringLiteral:))],
            secretGroup: 1,
            validators: [.minimumEntropy(3.0), .nearbyKeyword(twilioKeywords, before: 256, after: 256)],
            anchorGroup: 1
        ),
    ]

    private static let sendGridAPIKey = DetectorDefinition(
        id: "sendgrid_api_key",
        label: "SendGrid API key",
        direction: .outbound,
        summary: "SendGrid API key: `SG.` + 22 + `.` + 43 characters",
        pattern: PatternPart.leadingDash + #"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"# + PatternPart.trailingDash,
        keywords: [["sg."]],
        validators: [.minimumEntropy(4.0)],
        anchorGroup: 0
    )

    // MARK: Azure

    /// The Azurite / storage emulator key, published in Microsoft's documentation.
    private static let azuriteKey = Array(
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==".utf8
    )

    private static let azure: [DetectorDefinition] = [
        DetectorDefinition(
            id: "azure_storage_account_key",
            label: "Azure storage account key",
            direction: .outbound,
            summary:
                "Azure storage connection string `AccountKey=` + 88-character base64 key, with `DefaultEndpointsProtocol`/`AccountName` nearby",
            pattern: #"(?i:AccountKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])"#,
            keywords: [["accountkey"], ["defaultendpointsprotocol", "accountname"]],
            secretGroup: 1,
            validators: [
                .minimumEntropy(4.0),
                .nearbyKeyword(["defaultendpointsprotocol", "accountname"], before: 512, after: 512),
                .notPublicValue([azuriteKey]),
            ],
            anchorGroup: 0
        ),
        DetectorDefinition(
            id: "azure_shared_access_key",
            label: "Azure shared access key",
            direction: .outbound,
            summary:
                "Azure Service Bus / Event Hubs connection string `SharedAccessKey=` + 44-character base64 key",
            pattern: #"(?i:SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])"#,
            keywords: [["sharedaccesskey"], ["sharedaccesskeyname", "endpoint="]],
            secretGroup: 1,
            validators: [
                .minimumEntropy(4.0),
                .nearbyKeyword(["sharedaccesskeyname", "endpoint="], before: 512, after: 512),
            ],
            anchorGroup: 0
        ),
    ]

    // MARK: DigitalOcean, Shopify, Databricks

    private static let digitalOcean: [DetectorDefinition] = [
        prefixedHex(
            id: "digitalocean_personal_access_token",
            label: "DigitalOcean personal access token",
            prefix: "dop_v1_",
            length: 64,
            what: "DigitalOcean personal access token"
        ),
        prefixedHex(
            id: "digitalocean_oauth_token",
            label: "DigitalOcean OAuth token",
            prefix: "doo_v1_",
            length: 64,
            what: "DigitalOcean OAuth access token"
        ),
        prefixedHex(
            id: "digitalocean_refresh_token",
            label: "DigitalOcean refresh token",
            prefix: "dor_v1_",
            length: 64,
            what: "DigitalOcean OAuth refresh token"
        ),
    ]

    private static let shopify: [DetectorDefinition] = [
        prefixedHex(
            id: "shopify_access_token",
            label: "Shopify access token",
            prefix: "shpat_",
            length: 32,
            what: "Shopify Admin API access token"
        ),
        prefixedHex(
            id: "shopify_custom_app_token",
            label: "Shopify custom app token",
            prefix: "shpca_",
            length: 32,
            what: "Shopify custom app access token"
        ),
        prefixedHex(
            id: "shopify_private_app_token",
            label: "Shopify private app token",
            prefix: "shppa_",
            length: 32,
            what: "Shopify private app password"
        ),
        prefixedHex(
            id: "shopify_shared_secret",
            label: "Shopify shared secret",
            prefix: "shpss_",
            length: 32,
            what: "Shopify app shared secret"
        ),
    ]

    private static func prefixedHex(
        id: String,
        label: String,
        prefix: String,
        length: Int,
        what: String
    )
        -> DetectorDefinition
    {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: "\(what): `\(prefix)` + \(length) hex characters",
            pattern: PatternPart.leading + prefix + "[a-fA-F0-9]{\(length)}" + PatternPart.trailing,
            keywords: [[Keyword(stringLiteral: prefix)]],
            validators: [.minimumEntropy(3.0)],
            anchorGroup: 0
        )
    }

    private static let databricksToken = DetectorDefinition(
        id: "databricks_token",
        label: "Databricks token",
        direction: .outbound,
        summary: "Databricks personal access token: `dapi` + 32 hex characters (optionally `-N`)",
        pattern: PatternPart.leading + "dapi[a-f0-9]{32}(?:-[0-9])?" + PatternPart.trailingDash,
        keywords: [["dapi"]],
        validators: [.minimumEntropy(3.0)],
        anchorGroup: 0
    )

    // MARK: HashiCorp Vault

    private static let vault: [DetectorDefinition] = [
        vaultToken(id: "vault_service_token", label: "Vault service token", prefix: "hvs", kind: "service token"),
        vaultToken(id: "vault_batch_token", label: "Vault batch token", prefix: "hvb", kind: "batch token"),
        vaultToken(id: "vault_recovery_token", label: "Vault recovery token", prefix: "hvr", kind: "recovery token"),
    ]

    private static func vaultToken(id: String, label: String, prefix: String, kind: String) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: "HashiCorp Vault \(kind): `\(prefix).` + 24 or more characters",
            pattern: PatternPart.leadingDash + prefix + #"\.[A-Za-z0-9_-]{24,300}+"# + PatternPart.trailingDash,
            keywords: [[Keyword(stringLiteral: prefix + ".")]],
            validators: [.minimumEntropy(3.5)],
            anchorGroup: 0
        )
    }

    // MARK: Telegram, age, URLs

    private static let telegramKeywords: [Keyword] = ["telegram", "bot"]

    private static let telegramBotToken = DetectorDefinition(
        id: "telegram_bot_token",
        label: "Telegram bot token",
        direction: .outbound,
        summary: "Telegram bot token: `<bot id>:AA` + 33 characters, with `telegram` or `bot` just before",
        pattern: "(?<![0-9])[0-9]{6,12}:AA[A-Za-z0-9_-]{33}" + PatternPart.trailingDash,
        keywords: [telegramKeywords, [":aa"]],
        validators: [.minimumEntropy(3.5), .nearbyKeyword(telegramKeywords, before: 80, after: 40)]
    )

    private static let ageSecretKey = DetectorDefinition(
        id: "age_secret_key",
        label: "age secret key",
        direction: .outbound,
        summary: "age encryption secret key: `AGE-SECRET-KEY-1` + 58 bech32 characters with a valid checksum",
        pattern: "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Za-z0-9])",
        keywords: [["age-secret-key-1"]],
        validators: [.bech32Checksum],
        anchorGroup: 0
    )

    private static let urlCredentials = DetectorDefinition(
        id: "url_credentials",
        label: "credentials in URL",
        direction: .outbound,
        summary: "Password in a URL's user-info (`scheme://user:password@host`) that is not a placeholder or template",
        pattern:
            #"(?<=[A-Za-z0-9])://[^\s:/?#@"'<>\[\]{}|\\^`]{0,128}:([^\s:/?#@"'<>\[\]{}|\\^`]{1,256})@(?=[A-Za-z0-9\[])"#,
        keywords: [["://"], ["@"]],
        secretGroup: 1,
        validators: [.urlPassword],
        rejectsPlaceholders: false,
        anchorGroup: 0
    )
}
