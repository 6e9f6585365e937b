import Detectors
import EgressRoutes
import Foundation
import Yams

extension EgressManifest {
    /// The keys of the `egress:` mapping.
    static let sectionKeys = ["log", "routes"]

    /// The keys of one `egress.routes` entry: the routes.yaml route keys with `token_ref` for `token_env`,
    /// plus the reserved `role`.
    static let routeKeys = RouteFieldsReader.routeKeys(tokenKey: "token_ref") + ["role"]

    /// Reads the `egress:` section of a bottle manifest.
    ///
    /// The manifest's other top-level sections are not this module's business and are ignored; inside
    /// `egress:` every rule of routes.yaml applies (unknown keys, `log` only as the plain integer 0, 1 or 2,
    /// auth given whole, hosts, regexes, detector names, distinct hosts), with errors naming the manifest's key
    /// path, e.g. `bottle.yaml: egress.routes[2].dlp.outbound_on_match: expected one of …`. A manifest without
    /// an `egress:` section is an error: a bottle that may reach nothing says so with `routes: []`.
    ///
    /// - Parameters:
    ///   - file: how errors name the file, e.g. `bottle.yaml`.
    ///   - knownDetectors: detector ids any `*_detectors` name must be one of; `nil` skips that check.
    public static func parse(
        yaml: String,
        file: String,
        knownDetectors: Set<String>? = DetectorCatalog.knownIDs
    ) throws(RoutesConfigError) -> EgressManifest {
        let fields = RouteFieldsReader(file: file, knownDetectors: knownDetectors)
        let reader = fields.reader
        let sectionPath = YAMLPath.root.key("egress")
        let section = try reader.mapping(
            try egressSection(of: reader.document(yaml), reader: reader),
            at: sectionPath,
            allowedKeys: sectionKeys
        )

        var manifest = EgressManifest()
        if let node = section["log"] {
            manifest.log = try fields.logLevel(node, at: sectionPath.key("log"))
        }
        let routesPath = sectionPath.key("routes")
        var routes: [Route] = []
        for (index, item) in try reader.sequence(section["routes"], at: routesPath).enumerated() {
            let itemPath = routesPath.index(index)
            let mapping = try reader.mapping(item, at: itemPath, allowedKeys: routeKeys)
            let route = try fields.route(in: mapping, tokenKey: "token_ref")
            routes.append(route)
            var roles: [String] = []
            if let node = mapping["role"] {
                roles = try Self.roles(node, at: itemPath.key("role"), reader: reader)
            }
            manifest.routes.append(
                ManifestRoute(
                    host: route.host,
                    auth: route.auth.map { ManifestAuth(scheme: $0.scheme, tokenRef: $0.tokenEnv) },
                    matches: route.matches,
                    gitFetch: route.gitFetch,
                    dlp: route.dlp,
                    roles: roles
                )
            )
        }
        try fields.checkDistinctHosts(routes, at: routesPath)
        return manifest
    }

    /// Reads and parses the manifest at `path`; errors name the file by `path`.
    public static func load(
        path: String,
        knownDetectors: Set<String>? = DetectorCatalog.knownIDs
    ) throws(RoutesConfigError) -> EgressManifest {
        try parse(yaml: ConfigFile.text(at: path), file: path, knownDetectors: knownDetectors)
    }

    /// The value of the top-level `egress` key. Other top-level keys are left alone, whatever they hold.
    private static func egressSection(of root: Node, reader: YAMLReader) throws(RoutesConfigError) -> Node {
        guard let top = root.mapping else {
            throw reader.failure(at: .root, expected: "a mapping with an egress: section", found: root)
        }
        // Yams rejects a duplicated key while composing, so there is at most one.
        guard let section = top.first(where: { reader.isString($0.key) && $0.key.scalar?.string == "egress" })
        else {
            throw .invalid(file: reader.file, at: .root, expected: "an egress: section", found: "none")
        }
        return section.value
    }

    /// `role`: a list of non-empty strings (reserved; carried, unused).
    private static func roles(
        _ node: Node,
        at path: YAMLPath,
        reader: YAMLReader
    ) throws(RoutesConfigError) -> [String] {
        var roles: [String] = []
        for (index, item) in try reader.sequence(node, at: path).enumerated() {
            let role = try reader.string(item, at: path.index(index), expected: "a role name")
            guard !role.isEmpty else {
                throw reader.failure(at: path.index(index), expected: "a role name", found: item)
            }
            roles.append(role)
        }
        return roles
    }
}
