// Developer platforms, observability, payments and model providers that agents' tools use. Formats
// cross-checked against public rule sets (gitleaks `config/gitleaks.toml`, trufflehog detectors);
// the patterns are our own. Each has a distinctive prefix (the prefilter keyword) and boundaries;
// formats without one are gated by a keyword next to the value.

extension DetectorCatalog {
    static let platforms: [DetectorDefinition] =
        gitlab + [dopplerToken, linearAPIKey, postmanAPIKey] + grafana + sentry + newRelic
        + [mailgunKey, mailchimpKey] + square + [atlassianToken, discordBotToken, herokuKey, flyToken]
        + [supabaseKey, cloudflareOriginCAKey, alibabaAccessKeyID, tencentSecretID, planetScaleToken]
        + [pulumiToken, npmrcAuthToken, dockerConfigAuth] + modelProviders

    /// A prefix and a value with no separator inside: `prefix` + `count` characters of `alphabet`.
    private static func prefixed(
        id: String,
        label: String,
        summary: String,
        prefix: String,
        value: String,
        entropy: Double = 3.5
    ) -> DetectorDefinition {
        anchored(
            id: id,
            label: label,
            summary: summary,
            pattern: PatternPart.leadingDash + escapedLiteral(prefix) + value + PatternPart.trailingDash,
            keywords: [Keyword(stringLiteral: prefix)],
            entropy: entropy
        )
    }

    /// A whole pattern that starts at one of `keywords`, with an entropy floor.
    private static func anchored(
        id: String,
        label: String,
        summary: String,
        pattern: String,
        keywords: [Keyword],
        entropy: Double
    ) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: summary,
            pattern: pattern,
            keywords: [keywords],
            validators: [.minimumEntropy(entropy)],
            anchorGroup: 0
        )
    }

    private static func escapedLiteral(_ literal: String) -> String {
        var result = ""
        for character in literal {
            if "\\^$.|?*+()[]{}-/".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// `keyword … = value`, the value alone reported; the keyword must be right before it.
    private static func assigned(
        id: String,
        label: String,
        summary: String,
        keywords: [String],
        value: String,
        entropy: Double = 3.5
    ) -> DetectorDefinition {
        DetectorDefinition(
            id: id,
            label: label,
            direction: .outbound,
            summary: summary,
            pattern: PatternPart.assignment(keywords, value: value, valueEnd: "(?![A-Za-z0-9_+/=-])"),
            keywords: [keywords.map { Keyword(stringLiteral: $0.lowercased()) }],
            secretGroup: 1,
            validators: [.minimumEntropy(entropy)],
            anchorGroup: 0
        )
    }

    // MARK: GitLab (besides personal access tokens)

    private static let gitlab: [DetectorDefinition] = [
        prefixed(
            id: "gitlab_runner_token",
            label: "GitLab runner token",
            summary: "GitLab runner authentication token: `glrt-` + 20 or more characters",
            prefix: "glrt-",
            value: "[A-Za-z0-9_.-]{20,300}+"
        ),
        prefixed(
            id: "gitlab_deploy_token",
            label: "GitLab deploy token",
            summary: "GitLab deploy token: `gldt-` + 20 or more characters",
            prefix: "gldt-",
            value: "[A-Za-z0-9_.-]{20,300}+"
        ),
        prefixed(
            id: "gitlab_trigger_token",
            label: "GitLab pipeline trigger token",
            summary: "GitLab pipeline trigger token: `glptt-` + 40 hex characters",
            prefix: "glptt-",
            value: "[0-9a-f]{40}",
            entropy: 3.0
        ),
    ]

    // MARK: Collaboration and developer tools

    private static let dopplerToken = prefixed(
        id: "doppler_token",
        label: "Doppler token",
        summary: "Doppler token: `dp.pt.`/`dp.st.`/`dp.sa.`/`dp.ct.`/`dp.scim.`/`dp.audit.` + 40–44 characters",
        prefix: "dp.",
        value: "(?:pt|st|sa|ct|scim|audit)(?:\\.[a-z0-9_-]{2,35})?\\.[A-Za-z0-9]{40,44}"
    )

    private static let linearAPIKey = prefixed(
        id: "linear_api_key",
        label: "Linear API key",
        summary: "Linear API key: `lin_api_` + 40 characters",
        prefix: "lin_api_",
        value: "[A-Za-z0-9]{40}"
    )

    private static let postmanAPIKey = prefixed(
        id: "postman_api_key",
        label: "Postman API key",
        summary: "Postman API key: `PMAK-` + 24 hex + `-` + 34 hex characters",
        prefix: "PMAK-",
        value: "[a-f0-9]{24}-[a-f0-9]{34}",
        entropy: 3.0
    )

    private static let atlassianToken = prefixed(
        id: "atlassian_api_token",
        label: "Atlassian API token",
        summary: "Atlassian (Jira, Confluence, Bitbucket) API token: `ATATT3` + 180 or more characters",
        prefix: "ATATT3",
        value: "[A-Za-z0-9_=-]{180,300}+"
    )

    private static let discordBotToken = DetectorDefinition(
        id: "discord_bot_token",
        label: "Discord bot token",
        direction: .outbound,
        summary: "Discord bot token: the base64 bot id, a 6-character timestamp and a 27–38 character HMAC, with `discord` nearby",
        pattern: PatternPart.leadingDash + #"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"#
            + PatternPart.trailingDash,
        keywords: [["discord"]],
        validators: [.minimumEntropy(3.5), .nearbyKeyword(["discord"], before: 80, after: 40)]
    )

    // MARK: Observability

    private static let grafana: [DetectorDefinition] = [
        prefixed(
            id: "grafana_service_account_token",
            label: "Grafana service account token",
            summary: "Grafana service account token: `glsa_` + 32 characters + `_` + 8 hex characters",
            prefix: "glsa_",
            value: "[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
        ),
        prefixed(
            id: "grafana_cloud_token",
            label: "Grafana Cloud token",
            summary: "Grafana Cloud access policy token: `glc_` + 32 or more base64 characters",
            prefix: "glc_",
            value: "[A-Za-z0-9+/]{32,400}+={0,2}"
        ),
    ]

    private static let sentry: [DetectorDefinition] = [
        prefixed(
            id: "sentry_org_token",
            label: "Sentry organization token",
            summary: "Sentry organization auth token: `sntrys_eyJ` + base64 JSON claims",
            prefix: "sntrys_",
            value: "eyJ[A-Za-z0-9+/=_]{50,400}+"
        ),
        prefixed(
            id: "sentry_user_token",
            label: "Sentry user token",
            summary: "Sentry user auth token: `sntryu_` + 64 hex characters",
            prefix: "sntryu_",
            value: "[a-f0-9]{64}",
            entropy: 3.0
        ),
    ]

    private static let newRelic: [DetectorDefinition] = [
        prefixed(
            id: "new_relic_user_key",
            label: "New Relic user API key",
            summary: "New Relic user API key: `NRAK-` + 27 characters",
            prefix: "NRAK-",
            value: "[A-Z0-9]{27}",
            entropy: 3.0
        ),
        prefixed(
            id: "new_relic_insert_key",
            label: "New Relic insert key",
            summary: "New Relic insights insert key: `NRII-` + 32 characters",
            prefix: "NRII-",
            value: "[A-Za-z0-9_-]{32}"
        ),
    ]

    // MARK: Email and payments

    private static let mailgunKey = DetectorDefinition(
        id: "mailgun_api_key",
        label: "Mailgun API key",
        direction: .outbound,
        summary: "Mailgun private API key: `key-` + 32 hex characters, with `mailgun` nearby",
        pattern: PatternPart.leadingDash + "key-[a-f0-9]{32}" + PatternPart.trailingDash,
        keywords: [["mailgun"], ["key-"]],
        validators: [.minimumEntropy(3.0), .nearbyKeyword(["mailgun"], before: 80, after: 40)]
    )

    private static let mailchimpKey = DetectorDefinition(
        id: "mailchimp_api_key",
        label: "Mailchimp API key",
        direction: .outbound,
        summary: "Mailchimp API key: 32 hex characters + `-us` + the data-center number",
        // Matched from its `-us` suffix (the prefilter keyword, common in prose), looking back for
        // the key: an unanchored hex run would be tried at every offset of every buffer with `-us`.
        pattern: #"(?<=(?<![A-Za-z0-9_])([a-f0-9]{32}))-us[0-9]{1,2}"# + PatternPart.trailing,
        keywords: [["-us"]],
        secretGroup: 1,
        validators: [.minimumEntropy(3.0)],
        anchorGroup: 0
    )

    private static let square: [DetectorDefinition] = [
        anchored(
            id: "square_access_token",
            label: "Square access token",
            summary: "Square access token: `EAAA` + 60 characters, or legacy `sq0atp-` + 22",
            pattern: PatternPart.leadingDash + "(?:EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})" + PatternPart.trailingDash,
            keywords: ["eaaa", "sq0atp-"],
            entropy: 3.5
        ),
        prefixed(
            id: "square_oauth_secret",
            label: "Square OAuth secret",
            summary: "Square application secret: `sq0csp-` + 43 characters",
            prefix: "sq0csp-",
            value: "[A-Za-z0-9_-]{43}"
        ),
    ]

    // MARK: Hosting and infrastructure

    private static let herokuKey = anchored(
        id: "heroku_api_key",
        label: "Heroku API key",
        summary: "Heroku API key: `HRKU-` + 60 characters (`HRKU-AA…`)",
        pattern: PatternPart.leadingDash + "HRKU-[A-Za-z0-9_-]{60}" + PatternPart.trailingDash,
        keywords: ["hrku-"],
        entropy: 3.5
    )

    private static let flyToken = anchored(
        id: "fly_token",
        label: "Fly.io token",
        summary: "Fly.io token: `fo1_` + 43 characters, or a `FlyV1 fm1…_`/`fm2_` macaroon",
        pattern: PatternPart.leadingDash
            + #"(?:fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,4000}+={0,3})"#
            + "(?![A-Za-z0-9_+/=-])",
        keywords: ["fo1_", "fm1_", "fm2_", "fm1a_", "fm1r_", "fm2a_", "fm2r_"],
        entropy: 4.0
    )

    private static let supabaseKey = anchored(
        id: "supabase_key",
        label: "Supabase key",
        summary: "Supabase access token `sbp_` + 40 hex characters, or secret key `sb_secret_` + 31 or more",
        pattern: PatternPart.leadingDash + #"(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{31,64})"# + PatternPart.trailingDash,
        keywords: ["sbp_", "sb_secret_"],
        entropy: 3.0
    )

    private static let cloudflareOriginCAKey = prefixed(
        id: "cloudflare_origin_ca_key",
        label: "Cloudflare Origin CA key",
        summary: "Cloudflare Origin CA key: `v1.0-` + 24 hex + `-` + 146 hex characters",
        prefix: "v1.0-",
        value: "[a-f0-9]{24}-[a-f0-9]{146}",
        entropy: 3.0
    )

    private static let alibabaAccessKeyID = anchored(
        id: "alibaba_access_key_id",
        label: "Alibaba Cloud AccessKey ID",
        summary: "Alibaba Cloud AccessKey ID: `LTAI` + 12 to 20 characters",
        pattern: PatternPart.leading + "LTAI[A-Za-z0-9]{12,20}" + PatternPart.trailing,
        keywords: ["ltai"],
        entropy: 3.0
    )

    private static let tencentSecretID = anchored(
        id: "tencent_secret_id",
        label: "Tencent Cloud SecretId",
        summary: "Tencent Cloud SecretId: `AKID` + 32 characters",
        pattern: PatternPart.leading + "AKID[A-Za-z0-9]{32}" + PatternPart.trailing,
        keywords: ["akid"],
        entropy: 3.5
    )

    private static let planetScaleToken = anchored(
        id: "planetscale_token",
        label: "PlanetScale token",
        summary: "PlanetScale service token, password or OAuth token: `pscale_tkn_`/`pscale_pw_`/`pscale_oauth_` + 32 or more",
        pattern: PatternPart.leadingDash + #"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}"# + PatternPart.trailingDash,
        keywords: ["pscale_"],
        entropy: 3.5
    )

    private static let pulumiToken = prefixed(
        id: "pulumi_access_token",
        label: "Pulumi access token",
        summary: "Pulumi access token: `pul-` + 40 hex characters",
        prefix: "pul-",
        value: "[a-f0-9]{40}",
        entropy: 3.0
    )

    // MARK: Credentials in package-manager and container config

    private static let npmrcAuthToken = assigned(
        id: "npmrc_auth_token",
        label: "npm registry token in .npmrc",
        summary: "A registry token on an `.npmrc` `_authToken=` line (legacy UUIDs and other formats)",
        keywords: ["_authToken"],
        value: "[A-Za-z0-9_+/=-]{20,200}"
    )

    private static let dockerConfigAuth = DetectorDefinition(
        id: "docker_config_auth",
        label: "Docker registry credentials",
        direction: .outbound,
        summary: "A registry login in a Docker `config.json`: the base64 `user:password` of an `auths` entry",
        pattern: #""auth"\s*:\s*"([A-Za-z0-9+/]{12,2000}+={0,2})""#,
        keywords: [["\"auths\""], ["\"auth\""]],
        secretGroup: 1,
        validators: [.minimumEntropy(3.0)],
        anchorGroup: 1
    )

    // MARK: Model providers

    private static let modelProviders: [DetectorDefinition] = [
        prefixed(
            id: "groq_api_key",
            label: "Groq API key",
            summary: "Groq API key: `gsk_` + 52 characters",
            prefix: "gsk_",
            value: "[A-Za-z0-9]{52}"
        ),
        prefixed(
            id: "xai_api_key",
            label: "xAI API key",
            summary: "xAI (Grok) API key: `xai-` + 80 characters",
            prefix: "xai-",
            value: "[A-Za-z0-9]{80}"
        ),
        prefixed(
            id: "perplexity_api_key",
            label: "Perplexity API key",
            summary: "Perplexity API key: `pplx-` + 48 characters",
            prefix: "pplx-",
            value: "[A-Za-z0-9]{48}"
        ),
        prefixed(
            id: "replicate_api_token",
            label: "Replicate API token",
            summary: "Replicate API token: `r8_` + 37 characters",
            prefix: "r8_",
            value: "[A-Za-z0-9]{37}"
        ),
        assigned(
            id: "deepseek_api_key",
            label: "DeepSeek API key",
            summary: "DeepSeek API key: `sk-` + 32 hex characters assigned to a `deepseek` name",
            keywords: ["deepseek"],
            value: "sk-[a-f0-9]{32}",
            entropy: 3.0
        ),
        assigned(
            id: "azure_openai_key",
            label: "Azure OpenAI key",
            summary: "Azure OpenAI API key: 32 hex characters assigned to an `azure_openai` name",
            keywords: ["azure_openai", "azureopenai", "azure-openai"],
            value: "[a-f0-9]{32}",
            entropy: 3.0
        ),
    ]
}
