/// Passwords that appear at the top of every published breach frequency list, in `PasswordPolicy.fold` form
/// (lowercase letters and digits). A password counts as common when it is one of them, or one of them with digits
/// added before or after (`Password2024!` folds to `password2024`, whose stem `password` is listed).
enum CommonPasswords {
    static func contains(_ folded: String) -> Bool {
        if list.contains(folded) { return true }
        let stem = String(folded.drop(while: \.isNumber).reversed().drop(while: \.isNumber).reversed())
        return !stem.isEmpty && list.contains(stem)
    }

    static let list: Set<String> = [
        "123456", "1234567", "12345678", "123456789", "1234567890", "12345678910", "123456789012",
        "1234567891011", "0123456789", "987654321", "9876543210", "111111", "1111111111", "111111111111",
        "000000", "0000000000", "000000000000", "123123", "123123123", "123123123123", "121212", "123321",
        "654321", "666666", "696969", "777777", "888888", "112233", "147258369", "159753", "1q2w3e4r",
        "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx", "1qaz2wsx3edc", "q1w2e3r4t5y6", "qwerty", "qwerty123",
        "qwertyuiop", "qwertyuiopasdfgh", "qwertyuiopasdfghjkl", "qwertyui", "qwertz", "qwertzuiop", "azerty",
        "azertyuiop", "asdfgh", "asdfghjkl", "asdfasdf", "asdf1234", "zxcvbn", "zxcvbnm", "zxcvbnmasdfgh",
        "qazwsx", "qazwsxedc", "qazwsxedcrfv", "password", "passw0rd", "p4ssw0rd", "pa55word", "passwort",
        "motdepasse", "contrasena", "senha", "parola", "wachtwoord", "haslo", "password1", "passwordpassword",
        "mypassword", "secret", "secretpassword", "changeme", "changeit", "letmein", "letmeinnow", "welcome",
        "welcometo", "welcomehome", "iloveyou", "iloveyoutoo", "loveyou", "lovely", "sunshine", "princess",
        "princesa", "dragon", "monkey", "football", "baseball", "basketball", "soccer", "hockey", "superman",
        "batman", "spiderman", "starwars", "pokemon", "minecraft", "master", "masterkey", "shadow", "michael",
        "jennifer", "jordan", "hunter", "hunter2", "trustno1", "whatever", "freedom", "computer", "internet",
        "administrator", "admin", "adminadmin", "root", "toor", "login", "guest", "default", "access",
        "abc123", "abcdef", "abcdefgh", "abcdefghijkl", "abcd1234", "aaaaaa", "aaaaaaaaaaaa", "charlie",
        "chocolate", "cookie", "cheese", "butterfly", "flower", "summer", "winter", "spring", "autumn",
        "liverpool", "chelsea", "arsenal", "barcelona", "killer", "pepper", "ginger", "tigger", "buster",
        "daniel", "thomas", "robert", "matthew", "andrew", "joshua", "ashley", "jessica", "nicole", "samsung",
        "google", "facebook", "linkedin", "twitter", "apple", "microsoft", "iloveu", "zaq12wsx", "zaq1zaq1",
        "qweasdzxc", "qweqweqwe", "asdasdasd", "zxczxczxc", "webhook", "webhooks", "correcthorsebatterystaple",
    ]
}
