import Foundation

extension RoutesConfig {
    /// The keys of routes.yaml's top-level mapping.
    static let topLevelKeys = ["log", "routes"]

    /// Parses and validates routes.yaml text (README, "routes.yaml").
    ///
    /// Every rule is checked here, so a returned config is valid: unknown keys at any level, wrong node
    /// kinds, `log` other than the plain integers 0/1/2, half-given auth, bad hosts, regexes that do not
    /// compile, duplicate hosts. Values are normalised (hosts and auth schemes lowercased, methods
    /// uppercased, header names lowercased, `[]` detector lists read as off).
    ///
    /// - Parameters:
    ///   - file: how errors name the file, e.g. `routes.yaml`.
    ///   - knownDetectors: detector ids of the catalog; when given, any other name in `*_detectors` is an
    ///     error. `nil` skips that check.
    public static func parse(
        yaml: String,
        file: String,
        knownDetectors: Set<String>? = nil
    ) throws(RoutesConfigError) -> RoutesConfig {
        let fields = RouteFieldsReader(file: file, knownDetectors: knownDetectors)
        let reader = fields.reader
        let top = try reader.mapping(reader.document(yaml), at: .root, allowedKeys: topLevelKeys)

        var config = RoutesConfig()
        if let node = top["log"] {
            config.log = try fields.logLevel(node, at: .root.key("log"))
        }
        let routesPath = YAMLPath.root.key("routes")
        let routeKeys = RouteFieldsReader.routeKeys(tokenKey: "token_env")
        for (index, item) in try reader.sequence(top["routes"], at: routesPath).enumerated() {
            let mapping = try reader.mapping(item, at: routesPath.index(index), allowedKeys: routeKeys)
            config.routes.append(try fields.route(in: mapping, tokenKey: "token_env"))
        }
        try fields.checkDistinctHosts(config.routes, at: routesPath)
        return config
    }

    /// Reads and parses the routes file at `path`; errors name the file by `path`.
    public static func load(path: String, knownDetectors: Set<String>? = nil) throws(RoutesConfigError) -> RoutesConfig
    {
        try parse(yaml: ConfigFile.text(at: path), file: path, knownDetectors: knownDetectors)
    }
}
