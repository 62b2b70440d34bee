/// Ferry's release version, shown by `ferry version` and sent in `User-Agent: Ferry/<version>`.
public enum FerryVersion {
    public static let current = "0.1.0"
}
