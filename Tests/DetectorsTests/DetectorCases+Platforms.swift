import EgressTestSupport

extension DetectorCases {
    /// Cases for `DetectorCatalog.platforms`: a generated secret in a typical carrier, and a near miss.
    static let platforms: [DetectorCase] = {
        var f = SecretFactory(seed: 0x9A7F0E)
        var cases: [DetectorCase] = []
        func pos(_ id: String, _ note: String, _ secret: String, _ template: String = "value = {}\n") {
            cases.append(.positive(id, note, secret: secret, in: template))
        }
        func neg(_ id: String, _ note: String, _ text: String) {
            cases.append(.negative(id, note, text))
        }
        let hex = Alphabet.hexLower

        pos("gitlab_runner_token", "in a runner config", "glrt-" + f.random(Alphabet.base64URL, 20), "token = \"{}\"\n")
        neg("gitlab_runner_token", "too short", "token = \"glrt-" + f.random(Alphabet.alphanumeric, 12) + "\"\n")
        pos("gitlab_deploy_token", "a deploy token", "gldt-" + f.random(Alphabet.alphanumeric, 20), "CI_DEPLOY_PASSWORD={}\n")
        neg("gitlab_deploy_token", "a placeholder", "CI_DEPLOY_PASSWORD=gldt-xxxxxxxxxxxxxxxxxxxx\n")
        pos("gitlab_trigger_token", "in a curl call", "glptt-" + f.random(hex, 40), "curl -F token={} https://gitlab.test/api\n")
        neg("gitlab_trigger_token", "39 hex characters", "token=glptt-" + f.random(hex, 39) + "\n")

        pos("doppler_token", "a personal token", "dp.pt." + f.random(Alphabet.alphanumeric, 43), "DOPPLER_TOKEN={}\n")
        pos("doppler_token", "a service token", "dp.st.prd." + f.random(Alphabet.alphanumeric, 43), "DOPPLER_TOKEN={}\n")
        neg("doppler_token", "a placeholder", "DOPPLER_TOKEN=dp.pt.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n")
        pos("linear_api_key", "an Authorization header", "lin_api_" + f.random(Alphabet.alphanumeric, 40), "Authorization: {}\r\n")
        neg("linear_api_key", "39 characters", "Authorization: lin_api_" + f.random(Alphabet.alphanumeric, 39) + "\r\n")
        pos("postman_api_key", "an X-Api-Key header", "PMAK-" + f.random(hex, 24) + "-" + f.random(hex, 34), "X-Api-Key: {}\r\n")
        neg("postman_api_key", "no second part", "X-Api-Key: PMAK-" + f.random(hex, 24) + "\r\n")
        pos("atlassian_api_token", "a Jira token", "ATATT3" + f.random(Alphabet.base64URL, 186), "JIRA_API_TOKEN={}\n")
        neg("atlassian_api_token", "too short", "JIRA_API_TOKEN=ATATT3" + f.random(Alphabet.alphanumeric, 40) + "\n")
        let discord =
            "M" + f.random(Alphabet.base64URL, 23) + "." + f.random(Alphabet.base64URL, 6) + "." + f.random(Alphabet.base64URL, 38)
        pos("discord_bot_token", "a bot token", discord, "DISCORD_BOT_TOKEN={}\n")
        neg("discord_bot_token", "no Discord context", "id \(discord) seen\n")

        pos(
            "grafana_service_account_token",
            "a service account token",
            "glsa_" + f.random(Alphabet.alphanumeric, 32) + "_" + f.random(hex, 8),
            "GRAFANA_TOKEN={}\n"
        )
        neg("grafana_service_account_token", "no checksum part", "GRAFANA_TOKEN=glsa_" + f.random(Alphabet.alphanumeric, 32) + "\n")
        pos("grafana_cloud_token", "an access policy token", "glc_" + f.random(Alphabet.base64, 60) + "==", "GRAFANA_CLOUD_TOKEN={}\n")
        neg("grafana_cloud_token", "too short", "GRAFANA_CLOUD_TOKEN=glc_" + f.random(Alphabet.alphanumeric, 20) + "\n")
        pos("sentry_org_token", "an org token", "sntrys_eyJ" + f.random(Alphabet.base64, 120), "SENTRY_AUTH_TOKEN={}\n")
        neg("sentry_org_token", "not base64 JSON", "SENTRY_AUTH_TOKEN=sntrys_" + f.random(Alphabet.alphanumeric, 60) + "\n")
        pos("sentry_user_token", "a user token", "sntryu_" + f.random(hex, 64), "SENTRY_AUTH_TOKEN={}\n")
        neg("sentry_user_token", "63 hex characters", "SENTRY_AUTH_TOKEN=sntryu_" + f.random(hex, 63) + "\n")
        pos("new_relic_user_key", "a user key", "NRAK-" + f.random(Alphabet.upper + Alphabet.digits, 27), "NEW_RELIC_API_KEY={}\n")
        neg("new_relic_user_key", "26 characters", "NEW_RELIC_API_KEY=NRAK-" + f.random(Alphabet.upper + Alphabet.digits, 26) + "\n")
        pos("new_relic_insert_key", "an insert key", "NRII-" + f.random(Alphabet.base64URL, 32), "X-Insert-Key: {}\r\n")
        neg("new_relic_insert_key", "a placeholder", "X-Insert-Key: NRII-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n")

        pos("mailgun_api_key", "with its name", "key-" + f.random(hex, 32), "MAILGUN_API_KEY={}\n")
        neg("mailgun_api_key", "no Mailgun context", "cache key-" + f.random(hex, 32) + " expired\n")
        pos("mailchimp_api_key", "a key with its data center", f.random(hex, 32), "MAILCHIMP_KEY={}-us14\n")
        neg("mailchimp_api_key", "31 hex characters", "MAILCHIMP_KEY=" + f.random(hex, 31) + "-us14\n")
        pos("square_access_token", "a production token", "EAAA" + f.random(Alphabet.base64URL, 60), "SQUARE_ACCESS_TOKEN={}\n")
        neg("square_access_token", "59 characters", "SQUARE_ACCESS_TOKEN=EAAA" + f.random(Alphabet.alphanumeric, 59) + "\n")
        pos("square_oauth_secret", "an application secret", "sq0csp-" + f.random(Alphabet.base64URL, 43), "secret: {}\n")
        neg("square_oauth_secret", "too short", "secret: sq0csp-" + f.random(Alphabet.alphanumeric, 20) + "\n")

        pos("heroku_api_key", "a new-format key", "HRKU-AA" + f.random(Alphabet.base64URL, 58), "HEROKU_API_KEY={}\n")
        neg("heroku_api_key", "too short", "HEROKU_API_KEY=HRKU-" + f.random(Alphabet.alphanumeric, 30) + "\n")
        pos("fly_token", "an org token", "fo1_" + f.random(Alphabet.base64URL, 43), "FLY_API_TOKEN={}\n")
        pos("fly_token", "a macaroon", "fm2_" + f.random(Alphabet.base64, 200), "FLY_API_TOKEN=FlyV1 {}\n")
        neg("fly_token", "a short macaroon", "FLY_API_TOKEN=FlyV1 fm2_" + f.random(Alphabet.alphanumeric, 40) + "\n")
        pos("supabase_key", "a management token", "sbp_" + f.random(hex, 40), "SUPABASE_ACCESS_TOKEN={}\n")
        pos("supabase_key", "a secret key", "sb_secret_" + f.random(Alphabet.base64URL, 31), "SUPABASE_SECRET_KEY={}\n")
        neg("supabase_key", "39 hex characters", "SUPABASE_ACCESS_TOKEN=sbp_" + f.random(hex, 39) + "\n")
        pos("cloudflare_origin_ca_key", "an Origin CA key", "v1.0-" + f.random(hex, 24) + "-" + f.random(hex, 146), "CF_ORIGIN_CA_KEY={}\n")
        neg("cloudflare_origin_ca_key", "a version string", "release v1.0-" + f.random(hex, 8) + "\n")
        pos("alibaba_access_key_id", "an AccessKey ID", "LTAI" + f.random(Alphabet.alphanumeric, 20), "ALIBABA_CLOUD_ACCESS_KEY_ID={}\n")
        neg("alibaba_access_key_id", "inside a word", "x=FOOLTAI" + f.random(Alphabet.alphanumeric, 20) + "\n")
        pos("tencent_secret_id", "a SecretId", "AKID" + f.random(Alphabet.alphanumeric, 32), "TENCENTCLOUD_SECRET_ID={}\n")
        neg("tencent_secret_id", "31 characters", "TENCENTCLOUD_SECRET_ID=AKID" + f.random(Alphabet.alphanumeric, 31) + "\n")
        pos("planetscale_token", "a service token", "pscale_tkn_" + f.random(Alphabet.base64URL, 43), "PLANETSCALE_TOKEN={}\n")
        pos("planetscale_token", "a password in a DSN", "pscale_pw_" + f.random(Alphabet.base64URL, 43), "mysql://u:{}@aws.connect.psdb.cloud/db\n")
        neg("planetscale_token", "too short", "PLANETSCALE_TOKEN=pscale_tkn_" + f.random(Alphabet.alphanumeric, 20) + "\n")
        pos("pulumi_access_token", "an access token", "pul-" + f.random(hex, 40), "PULUMI_ACCESS_TOKEN={}\n")
        neg("pulumi_access_token", "not hex", "PULUMI_ACCESS_TOKEN=pul-" + f.random(Alphabet.upper, 40) + "\n")

        let npmUUID = [8, 4, 4, 4, 12].map { f.random(hex, $0) }.joined(separator: "-")
        pos("npmrc_auth_token", "a legacy UUID token", npmUUID, "//registry.npmjs.org/:_authToken={}\n")
        neg("npmrc_auth_token", "an environment reference", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
        let dockerAuth = Array((f.random(Alphabet.lower, 6) + ":" + f.random(Alphabet.alphanumeric, 20)).utf8).base64Encoded
        pos(
            "docker_config_auth",
            "a config.json entry",
            dockerAuth,
            #"{"auths": {"registry.test": {"auth": "{}"}}}"#
        )
        neg("docker_config_auth", "an auth field that is not a Docker config", #"{"auth": "\#(dockerAuth)"}"#)

        pos("groq_api_key", "a key", "gsk_" + f.random(Alphabet.alphanumeric, 52), "GROQ_API_KEY={}\n")
        neg("groq_api_key", "51 characters", "GROQ_API_KEY=gsk_" + f.random(Alphabet.alphanumeric, 51) + "\n")
        pos("xai_api_key", "a key", "xai-" + f.random(Alphabet.alphanumeric, 80), "XAI_API_KEY={}\n")
        neg("xai_api_key", "79 characters", "XAI_API_KEY=xai-" + f.random(Alphabet.alphanumeric, 79) + "\n")
        pos("perplexity_api_key", "a key", "pplx-" + f.random(Alphabet.alphanumeric, 48), "Authorization: Bearer {}\r\n")
        neg("perplexity_api_key", "47 characters", "Authorization: Bearer pplx-" + f.random(Alphabet.alphanumeric, 47) + "\r\n")
        pos("replicate_api_token", "a token", "r8_" + f.random(Alphabet.alphanumeric, 37), "REPLICATE_API_TOKEN={}\n")
        neg("replicate_api_token", "36 characters", "REPLICATE_API_TOKEN=r8_" + f.random(Alphabet.alphanumeric, 36) + "\n")
        pos("deepseek_api_key", "with its name", "sk-" + f.random(hex, 32), "DEEPSEEK_API_KEY={}\n")
        neg("deepseek_api_key", "without its name", "key=sk-" + f.random(hex, 32) + "\n")
        pos("azure_openai_key", "with its name", f.random(hex, 32), "AZURE_OPENAI_API_KEY={}\n")
        neg("azure_openai_key", "a placeholder", "AZURE_OPENAI_API_KEY=00000000000000000000000000000000\n")
        return cases
    }()
}
