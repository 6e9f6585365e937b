/// `--notify-format`: the body a `--notify` URL receives (README, "Notifications").
public enum NotificationFormat: String, Sendable, CaseIterable {
    /// egress's own JSON object.
    case json
    /// A Slack (or Mattermost) incoming webhook: `{"text": …}`.
    case slack
    /// An ntfy topic URL: the message as the body, title, tags, priority and link as headers.
    case ntfy
}
