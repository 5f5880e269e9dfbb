Feature: Asking the carrier

  Scenario: the carrier is busy twice, then answers
    Given the carrier is busy 2 times
    When I ask the carrier for 3 kg
    Then the carrier price is 9.99 EUR
    And the carrier was asked 3 times

  @wip
  Scenario: the carrier is down for good
    Given the carrier is busy 10 times
    When I ask the carrier for 3 kg
    Then I get no price
