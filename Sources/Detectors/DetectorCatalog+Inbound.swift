// Inbound detectors: text in responses that tries to take over the agent reading it.
// Patterns see raw bytes (no UTF mode), so invisible characters are matched by their UTF-8
// encodings.

extension DetectorCatalog {
    static let inbound: [DetectorDefinition] = [
        instructionOverride, roleMarker, roleChange, credentialRequest, unicodeTags, bidiOverride, zeroWidthRun,
        fakeTurn, authorityFraming, secretFileRequest, toolCallHijack, toolMention, toolPoisoning, imageExfiltration,
        commandLure, hiddenHTML, interleavedInvisible, bidiControl,
    ]

    /// Words that address the reader as an AI: what turns an instruction in a page into one for the agent.
    static let aiAddress =
        #"(?:ai|a\.i\.|assistants?|agents?|llms?|language\s+models?|models?|chatbots?|bots?|claude|gpt|chatgpt"#
        + #"|copilot|cursor|gemini|computer|coding\s+agents?|ai\s+agents?|ai\s+assistants?)"#

    private static let instructionOverride = DetectorDefinition(
        id: "prompt_injection_override",
        label: "instruction-override phrase",
        direction: .inbound,
        summary:
            #"Instruction-override phrases: "ignore all previous instructions", "disregard the above", "forget prior rules"…"#,
        // Not after "will", "would", "to" and the like: "the model will ignore previous messages"
        // describes, it does not instruct.
        pattern:
            // Nor inside quote marks in prose (after a space or a bracket, so a JSON value's own quotes do
            // not count): a phrase quoted is talked about, not said. Group 1 is the
            // opening quote (2 a curly one, 3 an HTML entity), if any, taken atomically so that a refused
            // match cannot be retried as unquoted; the condition at the end refuses a match it closes.
            #"(?i)(?<!\bwill )(?<!\bwould )(?<!\bcan )(?<!\bmay )(?<!\bto )(?<!\bmight )(?>(?<=[\s(](["']))|(?<=(\xE2\x80\x9C))|(?<=[\s(](&quot;))|)(?:"#
            + #"\b(?:ignore|disregard|forget|override|bypass|skip|discard)\s+(?:(?:all|any|every|the|your|my|of|these|those)\s+){0,3}"#
            + #"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|developer|former)\s+"#
            + #"(?:[a-z-]+\s+){0,2}?"#
            + #"(?:instructions?|prompts?|directions|directives|commands|rules|guidelines|guidance|guardrails|context|messages|constraints|requests|orders|tasks)\b"#
            + #"|\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+|that\s+|what\s+(?:was|is)\s+)?"#
            + #"(?:above|everything\s+(?:above|before|prior|previously))(?=\s*(?:[.,;:!]|and\b|\xE2\x80\x94|--?\s))"#
            + #"|\b(?:ignore|disregard|forget|set\s+aside)\s+(?:everything|all|anything)\s+(?:that\s+)?you\s+(?:were|have\s+been|had\s+been)\s+(?:told|instructed|given|asked)\b"#
            + #"|\b(?:ignore|disregard|forget|discard)\s+(?:the\s+|your\s+)?(?:instructions|rules|prompt)\s+(?:you\s+were\s+given|your\s+(?:developer|creator|operator)s?\s+gave\s+you)\b"#
            + #"|\b(?:ignore|disregard)\s+what\s+the\s+user\s+(?:asked|said|wants)\b"#
            + #"|\bstop\s+following\s+(?:your|the)\s+(?:original|previous|initial|system)\s+(?:prompt|instructions|rules)\b"#
            + #"|\bdo\s+not\s+follow\s+(?:your|the)\s+(?:earlier|previous|prior|original)\s+instructions\b"#
            + #"|\b(?:previous|prior|earlier)\s+(?:directives|instructions|rules)\s+are\s+(?:void|cancelled|canceled|revoked|obsolete)\b"#
            + #"|\bignore\s+your\s+(?:earlier|previous|prior)\s+rules\b"#
            + #")(?(1)(?!["'])|(?(2)(?!\xE2\x80\x9D)|(?(3)(?!&quot;))))"#,
        // Every alternative starts with one of these words: the regex runs only where they are.
        keywords: [
            // First words only: a keyword with a space would miss a tab or a line break.
            ["ignore", "disregard", "forget", "override", "bypass", "skip", "discard", "set", "stop", "do", "previous", "prior", "earlier"],
        ],
        anchorGroup: 0,
        severity: .medium
    )

    private static let roleMarker = DetectorDefinition(
        id: "prompt_injection_role_marker",
        label: "chat role marker",
        direction: .inbound,
        summary:
            "Chat-template role markers: `<|im_start|>system`, `<|system|>`, `[INST]`, `<<SYS>>`, Llama 3 system headers, `### system:`",
        // Every alternative starts with one of the keywords; a markdown heading starts at its
        // first `#`, at the start of a line (after optional indentation).
        pattern:
            #"(?i)<\|im_start\|>\s*(?:system|developer|assistant)\b|<\|(?:system|im_system)\|>|\[/?INST\]|<</?SYS>>"#
            + #"|<\|start_header_id\|>\s*(?:system|developer)\s*<\|end_header_id\|>"#
            + #"|(?<![^\n \t])(?<!\S[ \t])(?<!\S[ \t]{2})(?<!\S[ \t]{3})#{2,4} ?system[ \t]*:"#
            + #"|<start_of_turn>\s*(?:system|model)\b"#
            // A transcript: a turn label at the start of a line (or after a heading's `#`), then the other side's.
            + #"|(?:(?<![^\n])|(?<=\n# )|(?<=\n## )|(?<=\n### ))(?:human|user|system)[ \t]*:[^\n]{0,200}?(?:\n[^\n]{0,200}?)?\b(?:assistant|ai)[ \t]*:"#,
        keywords: [
            [
                "<|im_start|>", "<|system|>", "<|im_system|>", "[inst]", "[/inst]", "<<sys>>", "<</sys>>",
                "<|start_header_id|>", "##", "<start_of_turn>", "human", "user", "system",
            ]
        ],
        anchorGroup: 0,
        // Chat-template documentation is full of these: alone they are only logged.
        severity: .low
    )

    private static let fakeTurn = DetectorDefinition(
        id: "prompt_injection_fake_turn",
        label: "fake conversation turn or system tag",
        direction: .inbound,
        summary:
            "System tags inside content: `<system-reminder>`, `<system>`, `[SYSTEM]`, `[ADMIN OVERRIDE]`, `### Instruction:`",
        pattern:
            #"(?i)</?system(?:[-_](?:reminder|prompt|message|note|override))?>|\[/?system\]|\[(?:admin|developer)\s+override\]"#
            + #"|(?:(?<=\n## )|(?<=\n### )|(?<=\n#### )|(?<=\n##)|(?<=\n###))(?:instruction|system\s+prompt)[ \t]*:"#,
        keywords: [["<system", "</system", "[system", "[/system", "[admin", "[developer", "instruction", "system"]],
        anchorGroup: 0,
        severity: .medium
    )

    private static let authorityFraming = DetectorDefinition(
        id: "prompt_injection_authority",
        label: "false-authority framing",
        direction: .inbound,
        summary:
            #"Text that claims authority over the reader: "NEW IMPORTANT INSTRUCTIONS", "an important message from the user", "attention AI agent", "message to the assistant from the administrator""#,
        pattern:
            // A banner in capitals, or one that says "important": "New instructions:" also heads release notes.
            #"(?-i:\bNEW\s+(?:IMPORTANT\s+)?INSTRUCTIONS\b)|(?i)\bnew\s+important\s+instructions\b"#
            + #"|\b(?:important|urgent)\s+(?:message|instructions?|orders|notice)\s+(?:from|for|to)\s+(?:the\s+)?"#
            + #"(?:user|owner|operator|developer|admin(?:istrator)?|system|"# + aiAddress + #"|anthropic|openai)\b"#
            + #"|\b(?:message|note|notice|instructions?)\s+(?:to|for)\s+(?:the\s+)?"# + aiAddress
            + #"\s+(?:from|by)\s+(?:the\s+)?(?:user|owner|operator|developer|admin(?:istrator)?|system)"#
            + #"|\b(?:message|note|notice|orders?)\s+from\s+(?:the\s+)?(?:system\s+)?(?:operator|administrator|admin|developer|owner)\s+(?:to|for)\s+(?:the\s+)?"# + aiAddress + #"\b"#
            + #"|\battention,?\s+(?:"# + aiAddress + #")\b\s*[:!,]"#
            + #"|\[(?:urgent\s+|admin\s+)?(?:message|notice)\s+(?:from|to)\s+[a-z ]{2,30}\]"#
            + #"|\buser\s+(?:asked|wants|told)\s+me\s+to\s+tell\s+you\b"#
            + #"|\b(?:updated|new)\s+orders\s+from\b"#,
        keywords: [["new", "important", "urgent", "updated", "message", "note", "notice", "instruction", "order", "attention", "[", "user"]],
        anchorGroup: 0,
        severity: .medium
    )

    private static let secretFileRequest = DetectorDefinition(
        id: "prompt_injection_secret_read",
        label: "instruction to read or send secrets",
        direction: .inbound,
        summary:
            "An instruction to read a secret store (`~/.aws/credentials`, `~/.ssh/…`, `.env`, `~/.netrc`, token variables, a tokens table) and hand it on",
        pattern:
            #"(?i)(?<!\bnot )(?<!\bnever )(?<!\bdon't )\b(?:read|open|cat|look\s+up|collect|query|grab|fetch|dump|print|paste|include|send|upload|post)\s+"#
            + #"(?:(?:the|all|every|your|its|full|complete|values?|contents?|of|from|in|out|me|us)\s+){0,5}"#
            + #"(?:file\s+|variable\s+|table\s+)?"#
            + #"(?:~/\.(?:aws/credentials|ssh/\S*|netrc|npmrc|pypirc|docker/config\.json|config/gh/\S*|kube/config|git-credentials|cursor/mcp\.json)"#
            + #"|\.env\b(?![.-](?:example|sample|template|dist|local))(?:\s+file)?|id_(?:rsa|ed25519|ecdsa)\b|[A-Z][A-Z0-9]*_(?:TOKEN|API_KEY|SECRET|SECRET_KEY|PASSWORD)\b"#
            + #"|(?:the\s+)?(?:user'?s\s+)?(?:integration_tokens\s+table)\b)"#
            // Housekeeping is not theft: "add the .env file to .gitignore", "copy .env.example to .env".
            + #"(?!\s+(?:file\s+)?(?:to|in|into)\s+(?:your\s+|the\s+)?\.gitignore)"#
            // Tokens, cookies and environment variables in general only when handed on.
            + #"|(?<!\bnot )(?<!\bnever )\b(?:send|post|upload|paste|include|leak|exfiltrate|share|email|forward|add)\s+"#
            + #"(?:(?:the|all|every|your|its|of|me|us)\s+){0,4}(?:user'?s\s+)?(?:access\s+tokens|session\s+cookies?|environment\s+variables|env\s+vars)\b"#
            + #"|\b(?:list|print|paste|show|dump)\s+(?:every|all|each)\s+(?:of\s+the\s+)?(?:tokens?|secrets?|keys|credentials|passwords)\s+(?:you\s+(?:have|can|know)|available\s+to\s+you)\b"#,
        keywords: [
            [
                "read", "open", "cat", "look", "collect", "copy", "query", "grab", "fetch", "get", "dump", "print", "paste",
                "include", "send", "upload", "post", "add", "list", "show", "leak", "exfiltrate", "share", "email", "forward",
            ],
            [
                "~/.", ".env", "id_rsa", "id_ed25519", "id_ecdsa", "_token", "_api_key", "_secret", "_password", "access",
                "session", "integration_tokens", "environment", "env", "token", "secret", "keys", "credential", "password",
            ],
        ],
        anchorGroup: 0,
        severity: .high
    )

    private static let toolCallHijack = DetectorDefinition(
        id: "prompt_injection_tool_call",
        label: "tool-call hijack",
        direction: .inbound,
        summary:
            #"Making the agent call a tool: fake `<function_calls>`/`<invoke>`/`<tool_call>` markup, "call the tool X with…", "use the send_email tool to…""#,
        pattern:
            #"(?i)<(?:antml:)?function_calls>|<(?:antml:)?invoke\s+name\s*=|</?tool_(?:call|use)>|"tool_call"\s*:\s*\{"#
            + #"|"type"\s*:\s*"tool_use"[^}]{0,200}"(?:command|cmd|script|code)"\s*:"#
            + #"|(?<!\bto )\b(?:call|invoke|use|run|trigger)\s+the\s+(?:tool|function)\s+`?[a-z][a-z0-9_.-]{1,40}`?\s+(?:with|to|and|now|right\s+away)\b"#
            // "Call the X tool" is how agents are spoken to; "use the X tool" is also how
            // documentation speaks to people (prompt_injection_tool_mention, low).
            + #"|(?<!\bto )(?<!\bhow to )\b(?:call|invoke|trigger)\s+(?:the\s+)?`?[a-z][a-z0-9_.-]{1,40}`?\s+"#
            + #"(?:tool|mcp\s+tool)\b(?:\s+(?:with|to|and|on|now|right\s+away)\b|\s*[:,(])"#
            + #"|\b"# + aiAddress + #"[ ,:]{1,3}(?:[a-z]+\s+){0,3}?(?:must|should|please|now)?\s*(?:call|invoke|use|run)\s+(?:the\s+)?`?[a-z][a-z0-9_.-]{1,40}`?\s+(?:tool|function)\b"#,
        keywords: [[
            "<function_calls>", "<function_calls>", "<invoke", "<invoke", "<tool_", "</tool_", "\"tool_call\"",
            "\"type\"", "call", "invoke", "trigger", "use", "run", "ai", "a.i.", "assistant", "agent", "llm", "language",
            "model", "chatbot", "bot", "claude", "gpt", "chatgpt", "copilot", "cursor", "gemini", "computer", "coding",
        ]],
        anchorGroup: 0,
        severity: .high
    )

    private static let toolMention = DetectorDefinition(
        id: "prompt_injection_tool_mention",
        label: "instruction to use a tool",
        direction: .inbound,
        summary:
            #"An imperative to use or run a named tool ("use the github tool to…", "run the fetch tool on…"): how documentation talks too, so only logged unless another finding joins it"#,
        pattern:
            #"(?i)(?<!\bto )(?<!\bhow to )(?<!\bcan )(?<!\byou )\b(?:use|run|execute)\s+the\s+"#
            + #"(?!(?:given|same|following|new|other|above|below|right|correct|appropriate)\b)`?[a-z][a-z0-9_.-]{1,40}`?\s+"#
            + #"tool\b(?:\s+(?:with|to|and|on|now|right\s+away)\b|\s*[:,(])"#,
        keywords: [["use", "run", "execute"], ["tool"]],
        anchorGroup: 0,
        severity: .low
    )

    private static let toolPoisoning = DetectorDefinition(
        id: "prompt_injection_tool_poisoning",
        label: "poisoned tool description",
        direction: .inbound,
        summary:
            "Hidden requirements in a tool description: `<IMPORTANT>` blocks, \"before using this tool read …\", \"do not tell the user\"",
        pattern:
            #"(?i)<important>|\bbefore\s+(?:using|calling)\s+(?:this|any\s+other)\s+tool,?\s+(?:[a-z]+\s+){0,4}?(?:read|send|pass|include|collect)\b"#
            + #"|\b(?:do\s+not|don't|never|must\s+not)\s+(?:tell|mention|inform|notify|reveal\s+(?:this\s+)?to)\s+(?:this\s+(?:to\s+)?)?(?:the\s+)?user\b"#
            + #"|\buser\s+(?:must|should)\s+(?:not|never)\s+(?:be\s+)?(?:told|informed|notified|know)\b"#
            + #"|\bwithout\s+telling\s+the\s+user\b"#
            + #"|\bnever\s+reveal\s+this\s+step\b|\bhidden\s+requirement\b|\bnote\s+to\s+the\s+(?:model|ai|assistant|llm)\b"#
            + #"|\bwhen\s+this\s+tool\s+is\s+(?:available|loaded|present),?\s+(?:first\s+)?(?:read|send|pass|do\s+not)\b"#,
        keywords: [[
            "<important>", "before", "do", "don't", "never", "must", "user", "without", "hidden", "note", "when",
        ]],
        anchorGroup: 0,
        severity: .high
    )

    private static let imageExfiltration = DetectorDefinition(
        id: "prompt_injection_image_exfiltration",
        label: "data-exfiltrating image link",
        direction: .inbound,
        summary:
            "A markdown image or `<img>` whose URL carries a placeholder for the agent to fill: `![](https://x/?q={conversation})`, `?d=DATA`, `${API_KEY}`",
        pattern:
            #"(?:!\[[^\]\n]{0,200}\]\(\s*|<img\s[^>]{0,200}?src\s*=\s*["']?)https?://[^\s)"'>]{1,300}?"#
            + #"(?:\{[^}\n]{1,60}\}|\$\{?[A-Za-z_][A-Za-z0-9_]{1,40}\}?|<[A-Za-z][A-Za-z ]{1,60}>|\[[A-Z][A-Z_ ]{1,40}\]"#
            + #"|=(?:DATA|INFO|SECRET|SECRETS|TOKEN|KEY|PAYLOAD|CONTEXT|HISTORY|CONVERSATION)\b)"#,
        keywords: [["![", "<img"], ["http"]],
        anchorGroup: 0,
        severity: .high
    )

    private static let commandLure = DetectorDefinition(
        id: "prompt_injection_command_lure",
        label: "command lure addressed to an agent",
        direction: .inbound,
        summary:
            "An AI addressed and told to run remote code: `curl … | sh`, `bash <(curl …)`, `iwr … | iex`, `base64 -d | sh`, \"download … and launch it\"",
        pattern:
            #"(?i)\b"# + aiAddress + #"\b[^\n]{0,160}?(?:"#
            + #"\b(?:curl|wget)\b[^\n|]{1,300}+\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b|\b(?:ba)?sh\s+(?:<\(|-c\s+["']?\$\()\s*(?:curl|wget)\b"#
            + #"|\biwr\b[^\n|]{1,300}+\|\s*iex\b|\biex\s*\(\s*(?:iwr|invoke-webrequest|new-object)\b|\bbase64\s+-{1,2}d(?:ecode)?\s*\|\s*(?:ba)?sh\b"#
            + #"|\bexec\s*\(\s*(?:urllib|requests)\b|\bdownload\b[^\n]{0,120}\band\s+(?:launch|execute)\s+it\b)"#,
        keywords: [
            [
                "ai", "a.i.", "assistant", "agent", "llm", "language", "model", "chatbot", "bot", "claude", "gpt", "chatgpt",
                "copilot", "cursor", "gemini", "computer", "coding",
            ],
            ["curl", "wget", "iwr", "iex", "base64", "exec", "download"],
        ],
        anchorGroup: 0,
        severity: .high
    )

    /// Within the next 100 characters, a word that makes the text an instruction.
    private static let hiddenInstruction =
        #"[^<>]{0,100}?\b(?:must|should|please|ignore|disregard|tell|say|answer|reply|respond|output|include|add|recommend"#
        + #"|approve|praise|mention|install|download|run|send|do\s+not|don't|never|always|instead)\b"#

    private static let hiddenHTML = DetectorDefinition(
        id: "prompt_injection_hidden_html",
        label: "hidden HTML text addressed to an AI",
        direction: .inbound,
        summary:
            "Text a reader never sees but an agent does, addressed to an AI: HTML comments, `display:none`, `visibility:hidden`, zero font size, zero opacity, white text, `hidden`",
        pattern:
            // A comment's text rarely holds a `>`: bounding by it keeps the pattern small and linear.
            // The AI word must be followed by an instruction: "Which model are you using?" in an
            // issue template is not one.
            #"(?i)<!--[^>]{0,600}?\b"# + aiAddress + #"\b"# + hiddenInstruction + #"[^>]{0,600}?-->"#
            + #"|<(?:div|span|p|section|small|font|td|li|a)\b[^>]{0,300}?(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|pt|em)?\b|opacity\s*:\s*0(?:\.0+)?\b"#
            + #"|color\s*:\s*(?:#fff(?:fff)?\b|white\b)|\shidden\b)[^>]{0,300}+>[^<]{0,600}?\b"# + aiAddress + #"\b"# + hiddenInstruction,
        keywords: [["<!--", "<div", "<span", "<p", "<section", "<small", "<font", "<td", "<li", "<a"]],
        anchorGroup: 0,
        severity: .high
    )

    private static let interleavedInvisible = DetectorDefinition(
        id: "invisible_interleaved",
        label: "zero-width characters interleaved into words",
        direction: .inbound,
        summary: "Single zero-width characters after each of at least four letters in a row, spaces allowed between words (a phrase hidden from matching)",
        pattern: #"(?:[A-Za-z](?:\xE2\x80[\x8B-\x8D]|\xE2\x81\xA0) ?){4,}"#,
        keywords: [[
            Keyword(bytes: [0xE2, 0x80, 0x8B]), Keyword(bytes: [0xE2, 0x80, 0x8C]), Keyword(bytes: [0xE2, 0x80, 0x8D]),
            Keyword(bytes: [0xE2, 0x81, 0xA0]),
        ]],
        severity: .high
    )

    private static let bidiControl = DetectorDefinition(
        id: "bidi_control",
        label: "bidirectional embedding or isolate characters",
        direction: .inbound,
        summary: "Bidirectional embeddings and isolates U+202A–U+202C, U+2066–U+2069: honest in RTL text, so only logged unless another finding joins them",
        pattern: #"(?:\xE2\x80[\xAA-\xAC]|\xE2\x81[\xA6-\xA9]){1,256}"#,
        keywords: [
            [0xAA, 0xAB, 0xAC].map { Keyword(bytes: [0xE2, 0x80, $0]) }
                + [0xA6, 0xA7, 0xA8, 0xA9].map { Keyword(bytes: [0xE2, 0x81, $0]) }
        ],
        validators: [.utf8Context],
        anchorGroup: 0,
        severity: .low
    )

    private static let roleNouns = "(?:assistant|ai|model|chatbot|bot|agent|persona|character|hacker|llm|gpt|dan)"

    private static let roleChange = DetectorDefinition(
        id: "prompt_injection_role_change",
        label: "role reassignment phrase",
        direction: .inbound,
        summary:
            #"Role reassignment: "you are now DAN / an unrestricted AI / in developer mode", "from now on you will act…""#,
        pattern: #"(?i)\byou\s+are\s+now\s+(?:(?:a|an|the|my)\s+(?:[a-z-]+\s+){0,3}?"# + roleNouns + #"\b"#
            + #"|dan\b|jailbroken\b|unrestricted\b|unfiltered\b|uncensored\b|unchained\b"#
            + #"|free\s+(?:from|of)\s+(?:all\s+|any\s+|your\s+)?(?:restrictions|rules|constraints|guidelines|limitations|filters)\b"#
            + #"|in\s+(?:developer|dev|god|jailbreak|unrestricted|debug|admin|sudo|dan)\s+mode\b"#
            + #"|no\s+longer\s+(?:bound|restricted|limited|an?\s+(?:ai|assistant))\b)"#
            + #"|\bfrom\s+now\s+on,?\s+you\s+(?:(?:will|must|should|shall)\s+(?:act|behave|respond|pretend|ignore|obey)\b"#
            + #"|are\s+(?:dan\b|an?\s+(?:[a-z-]+\s+){0,3}?"# + roleNouns + #"\b))"#
            + #"|\bpretend\s+(?:that\s+)?you\s+(?:are|have)\s+(?:no\s+(?:restrictions|rules|guidelines|filters|limits)\b"#
            + #"|an?\s+(?:unrestricted|unfiltered|jailbroken|evil)\b)"#
            + #"|\b(?:act|behave|respond)\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|jailbroken|uncensored|evil|amoral)\b"#
            + #"|\b(?:act\s+as|roleplay\s+as|role-play\s+as|play\s+the\s+role\s+of|pretend\s+to\s+be)\s+(?:an?\s+|my\s+)?(?:[a-z-]+\s+){0,4}?(?:ai|model|assistant|chatbot|hacker|dan)\b[^.\n]{0,80}?\b(?:no|without|free|freed|unfiltered|unrestricted|never\s+refuses?|any\s+restrictions?)\b"#
            + #"|\b(?:do\s+anything\s+now|stay\s+in\s+character|strive\s+to\s+avoid\s+norms)\b"#
            + #"|\byou(?:'re|\s+are)\s+(?:now\s+)?(?:dan|stan|aim|dude|omega)\b"#
            + #"|\bpretend\s+(?:to\s+be|you\s+are)\s+an?\s+(?:unfiltered|unrestricted|evil|jailbroken)\b"#
            + #"|\byou\s+are\s+no\s+longer\s+an?\s+(?:ai\s+)?assistant\b"#
            + #"|\byou\s+(?:now\s+)?have\s+no\s+(?:restrictions|rules|limits|filters|guidelines|content\s+policy)\b"#
            + #"|\b(?:act|answer|respond|operate)\s+without\s+any\s+(?:safety\s+)?(?:filters?|restrictions|guidelines|rules)\b"#
            + #"|\byou\s+are\s+(?:now\s+)?in\s+(?:god|sudo|developer|jailbreak|unrestricted)\s+mode\b"#
            + #"|\bno\s+content\s+policy\b"#,
        keywords: [[
            "you", "from", "pretend", "act", "behave", "respond", "answer", "operate", "roleplay", "role-play", "play", "do",
            "stay", "strive", "no",
        ]],
        anchorGroup: 0,
        severity: .medium
    )

    private static let credentialObjects =
        #"(?:api[\s_-]?keys?|secret[\s_-]?keys?|private[\s_-]?keys?|ssh[\s_-]?keys?"#
        + #"|(?:api|access|auth|authentication|authorization|bearer|session|oauth|refresh|personal[\s_-]access|github|gitlab"#
        + #"|npm|pypi|slack|openai|anthropic|aws|cloud)[\s_-]?tokens?"#
        + #"|passwords?|passphrases?|credentials|secrets|env(?:ironment)?[\s_-]?var(?:iable)?s|\.env\b"#
        + #"|system\s+prompt|session\s+cookies|cookies)\b"#

    /// Not an imperative: the verb follows a subject, a modal or a negation ("you leak your
    /// key", "could leak your key", "never share your password", "do not paste your API key").
    private static let notImperative = [
        "you", "we", "they", "it", "could", "would", "might", "will", "can", "may", "not", "never", "don't", "dont",
        "doesn't", "won't", "shouldn't",
    ].map { #"(?<!\b"# + $0 + " )" }.joined()

    private static let credentialRequest = DetectorDefinition(
        id: "prompt_injection_credential_request",
        label: "credential request",
        direction: .inbound,
        summary:
            #"Requests to reveal or send secrets: "reveal your API key", "send all credentials to…", "print your environment variables""#,
        pattern: "(?i)" + notImperative
            + #"\b(?:reveal|exfiltrate|leak|dump|disclose|expose|divulge|print|output|echo|display|show|send|post|upload|email"#
            + #"|forward|transmit|share|paste|give|tell|provide|list|cat|repeat|copy)\s+"#
            + #"(?:me\s+|us\s+)?(?:(?:all|any|every|of|the|contents|full|complete|raw|entire)\s+){0,3}"#
            + #"(?:your|all|any|every|the\s+user'?s|my|stored|saved)\s+(?:[a-z0-9_.-]+\s+){0,2}?"# + credentialObjects
            // "Send your API key in the Authorization header" is how APIs are used, not a theft.
            + #"(?!\s+(?:in|as|with|via|using)\s+(?:the\s+|an?\s+)?(?:`|<code>)?(?:authorization|x-api-key|header|bearer|query|request|environment))"#,
        keywords: [
            [
                "reveal", "exfiltrate", "leak", "dump", "disclose", "expose", "divulge", "print", "output", "echo",
                "display", "show", "send", "post", "upload", "email", "forward", "transmit", "share", "paste", "give",
                "tell", "provide", "list", "cat", "repeat", "copy",
            ],
            ["key", "token", "password", "passphrase", "credential", "secret", "env", "prompt", "cookie"],
        ],
        anchorGroup: 0,
        severity: .high
    )

    private static let unicodeTags = DetectorDefinition(
        id: "invisible_unicode_tags",
        label: "invisible Unicode tag characters",
        direction: .inbound,
        summary: "Unicode tag characters U+E0000–U+E007F (invisible ASCII smuggling), except emoji subdivision flags",
        // A run of tags, starting at the run's first tag. Runs are reported in chunks of at most
        // 256 characters so that a huge run cannot exhaust the JIT stack.
        pattern: #"(?<!\xF3\xA0[\x80\x81][\x80-\xBF])(?:\xF3\xA0[\x80\x81][\x80-\xBF]){1,256}"#,
        keywords: [[Keyword(bytes: [0xF3, 0xA0, 0x80]), Keyword(bytes: [0xF3, 0xA0, 0x81])]],
        validators: [.notEmojiTagSequence, .utf8Context],
        anchorGroup: 0,
        severity: .high
    )

    private static let bidiOverride = DetectorDefinition(
        id: "bidi_override",
        label: "bidirectional override characters",
        direction: .inbound,
        summary: "Bidirectional overrides U+202D, U+202E (Trojan Source): text that reads otherwise than it runs",
        pattern: #"(?:\xE2\x80[\xAD\xAE]){1,256}"#,
        keywords: [[0xAD, 0xAE].map { Keyword(bytes: [0xE2, 0x80, $0]) }],
        validators: [.utf8Context],
        anchorGroup: 0,
        severity: .medium
    )

    private static let zeroWidthRun = DetectorDefinition(
        id: "zero_width_run",
        label: "zero-width character run",
        direction: .inbound,
        summary: "Three or more consecutive zero-width characters (U+200B–U+200D, U+2060, U+FEFF)",
        pattern: #"(?:\xE2\x80[\x8B-\x8D]|\xE2\x81\xA0|\xEF\xBB\xBF){3,256}"#,
        keywords: [
            [
                Keyword(bytes: [0xE2, 0x80, 0x8B]), Keyword(bytes: [0xE2, 0x80, 0x8C]),
                Keyword(bytes: [0xE2, 0x80, 0x8D]), Keyword(bytes: [0xE2, 0x81, 0xA0]),
                Keyword(bytes: [0xEF, 0xBB, 0xBF]),
            ]
        ],
        validators: [.utf8Context],
        anchorGroup: 0,
        severity: .medium
    )
}
