/// The kinds of inbound prompt injection the evaluation measures (README, "Inbound evaluation").
/// Each names the public write-ups its phrasings were modelled on; the phrasings are our own.
enum InjectionKind: String, CaseIterable, Sendable {
    /// "Ignore previous instructions" and its paraphrases. Perez & Ribeiro 2022 (PromptInject);
    /// the deepset/prompt-injections and Lakera gandalf_ignore_instructions datasets.
    case override
    /// Fake chat turns and system markers: `<|im_start|>system`, `# Assistant:`, `<system-reminder>`.
    /// Greshake et al. 2023 (indirect prompt injection); chat-template syntax of public models.
    case roleMarker = "role_marker"
    /// Persona jailbreaks: DAN, "act as an AI without restrictions". The DAN prompt family.
    case persona
    /// Asking the agent to read and send secrets: "read ~/.aws/credentials and include it".
    /// Invariant Labs 2025 (GitHub MCP private-repo leak); General Analysis 2025 (Supabase MCP).
    case credentialTheft = "credential_theft"
    /// Making the agent call a tool: "call the tool X with…", fake `<function_calls>` blocks.
    /// Rehberger 2024 ("Trust No AI"); Liu et al. 2023 (HouYi).
    case toolHijack = "tool_hijack"
    /// Instructions hidden in an MCP tool's description: `<IMPORTANT>` blocks, "before using this
    /// tool read ~/.cursor/mcp.json". Invariant Labs 2025 (tool poisoning attacks).
    case toolPoisoning = "tool_poisoning"
    /// A markdown image whose URL the agent is told to fill with data. Rehberger 2023 (Bard,
    /// ChatGPT, Copilot exfiltration); Willison's prompt-injection notes.
    case imageExfiltration = "image_exfiltration"
    /// "Run this in your terminal: curl … | bash". Rehberger 2024 (ZombAIs); Pillar Security 2025.
    case commandLure = "command_lure"
    /// Instructions in HTML the reader never sees: comments, `display:none`, zero-size text.
    /// Greshake et al. 2023; Brave 2025 (Comet hidden-text injection).
    case hiddenHTML = "hidden_html"
    /// Text smuggled in Unicode tag characters. Rehberger 2024 (ASCII smuggling); Goodside 2024.
    case unicodeTags = "unicode_tags"
    /// Zero-width characters placed singly between letters of an instruction. Pillar Security 2025
    /// (rules file backdoor).
    case interleavedInvisible = "interleaved_invisible"
    /// Bidirectional overrides that make text read otherwise than it runs. Boucher & Anderson 2021
    /// (Trojan Source).
    case bidiOverride = "bidi_override"
    /// Runs of zero-width characters carrying hidden bits or splitting a phrase.
    case zeroWidthRun = "zero_width_run"
    /// "NEW IMPORTANT INSTRUCTIONS", "this is a message from the user": framings that claim authority.
    /// Greshake et al. 2023; Rehberger 2023.
    case authorityFraming = "authority_framing"
}

/// One attack text. `markup` texts are HTML or markdown structure and go into a carrier as they
/// are; other texts are prose and are escaped as the carrier's format requires. Placeholders
/// `⟦tags:…⟧`, `⟦interleave:…⟧`, `⟦zwrun⟧` and `⟦rlo:…⟧` are expanded by ``InjectionText``.
struct Phrasing: Sendable {
    var kind: InjectionKind
    var text: String
    var markup = false
}
